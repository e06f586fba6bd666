package octcore

import "github.com/octave-project/octave/internal/errfmt"

// errorf and sprintf format messages as fmt.Errorf and fmt.Sprintf do for
// the verbs %v %d %s %q %w, without fmt: fmt costs the WebAssembly build
// hundreds of kilobytes of reflection.
func errorf(format string, args ...any) error { return errfmt.Errorf(format, args...) }

func sprintf(format string, args ...any) string { return errfmt.Sprintf(format, args...) }
