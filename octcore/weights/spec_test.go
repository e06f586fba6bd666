package weights

import (
	"os"
	"testing"
)

// TestModelSpec checks that a loaded model keeps the spec Load compiled
// (Build and OutputSize do not compile again), and that a changed graph is
// compiled afresh rather than served stale.
func TestModelSpec(t *testing.T) {
	data, err := os.ReadFile("../../models/weights/fashion-oct-a500.safetensors")
	if err != nil {
		t.Skip(err)
	}
	m, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.spec == nil {
		t.Fatal("Load did not keep its spec")
	}
	loaded := m.spec
	s, err := m.Spec()
	if err != nil || s != loaded {
		t.Fatalf("Spec() = %p, %v; want the loaded spec %p", s, err, loaded)
	}
	if _, err := m.Build(); err != nil {
		t.Fatal(err)
	}
	if n, err := m.OutputSize(0, 0); err != nil || n != 10 {
		t.Fatalf("OutputSize = %d, %v", n, err)
	}
	if m.spec != loaded {
		t.Fatal("Build or OutputSize compiled the graph again")
	}
	// Change the graph: the last layer's output count.
	m.Graph = append(m.Graph[:0:0], m.Graph...)
	m.Graph[len(m.Graph)-1].Out = 7
	s, err = m.Spec()
	if err != nil || s == loaded || s.Graph[len(s.Graph)-1].Out != 7 {
		t.Fatalf("after a change, Spec() = %p (loaded %p), %v", s, loaded, err)
	}
	if _, err := m.Build(); err == nil {
		t.Fatal("Build accepted parameters that no longer fit the changed graph")
	}
}
