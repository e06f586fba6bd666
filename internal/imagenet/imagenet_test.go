package imagenet

import "testing"

func TestClasses(t *testing.T) {
	c := Classes()
	if len(c) != 1000 {
		t.Fatalf("%d classes, want 1000", len(c))
	}
	seen := map[string]bool{}
	for i, n := range c {
		if n == "" || seen[n] {
			t.Errorf("class %d %q is empty or repeated", i, n)
		}
		seen[n] = true
	}
	// Spot checks against the standard ILSVRC-2012 index order.
	for i, want := range map[int]string{0: "tench", 1: "goldfish", 281: "tabby", 999: "toilet tissue"} {
		if c[i] != want {
			t.Errorf("class %d is %q, want %q", i, c[i], want)
		}
	}
}
