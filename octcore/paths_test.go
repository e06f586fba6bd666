package octcore

import "testing"

// TestPathsResolution checks the path table against the geometry it
// encodes: each path's source, pooled Pools times, convolved at stride 1
// (pad k/2 keeps the size) and upsampled when Up, lands at its output
// part's resolution, for every stride and for even and odd sizes.
func TestPathsResolution(t *testing.T) {
	for _, stride := range []int{1, 2} {
		for _, n := range []int{28, 14, 7, 9, 56} {
			part := [2]int{n, half(n)} // input high, low
			outHigh := n
			if stride == 2 {
				outHigh = half(n)
			}
			outPart := [2]int{outHigh, half(outHigh)}
			for _, p := range Paths {
				r := part[b2i(p.FromLow)]
				for range p.Pools(stride) {
					r = half(r)
				}
				if p.Up(stride) {
					if 2*r < outPart[b2i(p.ToLow)] || 2*r > outPart[b2i(p.ToLow)]+1 {
						t.Errorf("%s stride %d size %d: upsampled %d does not crop to %d", p.Name, stride, n, 2*r, outPart[b2i(p.ToLow)])
					}
					continue
				}
				if r != outPart[b2i(p.ToLow)] {
					t.Errorf("%s stride %d size %d: source at %d, output part at %d", p.Name, stride, n, r, outPart[b2i(p.ToLow)])
				}
			}
		}
	}
}

// TestPathsTable spells out the paper's equations (Chen et al. 2019, eq. 3
// and the stride-2 form) and compares.
func TestPathsTable(t *testing.T) {
	want := map[string][2]struct {
		pools int
		up    bool
	}{
		// stride 1, stride 2
		"hh": {{0, false}, {1, false}}, // f(X_H), f(pool(X_H))
		"hl": {{1, false}, {2, false}}, // f(pool(X_H)), f(pool(pool(X_H)))
		"lh": {{0, true}, {0, false}},  // up(f(X_L)), f(X_L)
		"ll": {{0, false}, {1, false}}, // f(X_L), f(pool(X_L))
	}
	for i, p := range Paths {
		w, ok := want[p.Name]
		if !ok {
			t.Fatalf("unknown path %q", p.Name)
		}
		if p.FromLow != (p.Name[0] == 'l') || p.ToLow != (p.Name[1] == 'l') {
			t.Errorf("%s: from low %v, to low %v", p.Name, p.FromLow, p.ToLow)
		}
		for s := 1; s <= 2; s++ {
			if p.Pools(s) != w[s-1].pools || p.Up(s) != w[s-1].up {
				t.Errorf("%s stride %d: pools %d up %v, want %d %v", p.Name, s, p.Pools(s), p.Up(s), w[s-1].pools, w[s-1].up)
			}
		}
		if i > 0 && Paths[i-1].Name >= p.Name {
			t.Errorf("paths out of order (the order of a layer's weight tensors): %v", Paths)
		}
	}
	if Paths[pathHH].Name != "hh" || Paths[pathHL].Name != "hl" || Paths[pathLH].Name != "lh" || Paths[pathLL].Name != "ll" {
		t.Errorf("path indices do not match the table: %v", Paths)
	}
	// A depthwise layer keeps to its octave; an absent part drops its paths.
	for _, p := range Paths {
		if got := p.Exists(4, 4, 4, 4, true); got != (p.FromLow == p.ToLow) {
			t.Errorf("%s depthwise: exists %v", p.Name, got)
		}
		if got := p.Exists(4, 0, 4, 4, false); got == p.FromLow {
			t.Errorf("%s without low input: exists %v", p.Name, got)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
