package weights

import (
	"math/rand"
	"slices"
	"testing"
)

// TestSortByBegin compares the merge sort with slices.SortStableFunc.
func TestSortByBegin(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 70; n++ {
		es := make([]*entry, n)
		for i := range es {
			es[i] = &entry{begin: rng.Intn(8), keyAt: int64(i)}
		}
		want := append([]*entry(nil), es...)
		slices.SortStableFunc(want, func(a, b *entry) int { return a.begin - b.begin })
		got := sortByBegin(es)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("n=%d: position %d holds entry %d, want %d", n, i, got[i].keyAt, want[i].keyAt)
			}
		}
		for i := range es {
			if es[i].keyAt != int64(i) {
				t.Fatal("the input was reordered")
			}
		}
	}
}
