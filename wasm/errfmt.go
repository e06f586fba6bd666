//go:build js && wasm

package main

import "github.com/octave-project/octave/internal/errfmt"

// errorf and sprintf format as fmt.Errorf and fmt.Sprintf do for the verbs
// %v %d %s %q %w; fmt itself would cost this binary hundreds of kilobytes.
func errorf(format string, args ...any) error { return errfmt.Errorf(format, args...) }

func sprintf(format string, args ...any) string { return errfmt.Sprintf(format, args...) }
