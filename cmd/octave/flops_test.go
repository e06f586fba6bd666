package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestFlopsJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if st := run([]string{"flops", "--arch", "oct-resnet50", "--alpha", ".5", "--json"}, &out, &errb); st != 0 {
		t.Fatalf("status %d: %s", st, errb.String())
	}
	var got struct {
		Arch   string  `json:"arch"`
		Alpha  float64 `json:"alpha"`
		Params int64   `json:"params"`
		MACs   int64   `json:"macs"`
		Acts   int64   `json:"activations"`
		Layers []struct {
			Name string `json:"name"`
			MACs int64  `json:"macs"`
			HH   int64  `json:"hh"`
			HL   int64  `json:"hl"`
			LH   int64  `json:"lh"`
			LL   int64  `json:"ll"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Arch != "oct-resnet50" || got.Alpha != .5 || got.Params != 25557032 || got.MACs/1e6 != 2367 || got.Acts <= 0 {
		t.Fatalf("got %+v", got)
	}
	var sum int64
	for _, l := range got.Layers {
		if l.HH+l.HL+l.LH+l.LL != l.MACs {
			t.Fatalf("layer %s: paths do not add up to %d", l.Name, l.MACs)
		}
		sum += l.MACs
	}
	if sum != got.MACs {
		t.Fatalf("layers sum to %d, total %d", sum, got.MACs)
	}
}

func TestFlopsTableAndErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if st := run([]string{"flops", "--arch", "oct-mobilenetv1", "--alpha", ".5"}, &out, &errb); st != 0 {
		t.Fatalf("status %d: %s", st, errb.String())
	}
	if !strings.Contains(out.String(), "4231976 params") || !strings.Contains(out.String(), "318.168M") {
		t.Fatalf("table:\n%s", out.String())
	}
	for _, args := range [][]string{{"flops"}, {"flops", "--arch", "nope"}, {"flops", "--arch", "oct-resnet50", "--alpha", "2"}, {"flops", "--arch", "oct-resnet50", "--size", "-3"}, {"flops", "--arch", "oct-resnet50", "extra"}} {
		out.Reset()
		errb.Reset()
		if st := run(args, &out, &errb); st != 2 || errb.Len() == 0 || strings.Contains(errb.String(), "goroutine") {
			t.Errorf("%v: status %d, stderr %q", args, st, errb.String())
		}
	}
}
