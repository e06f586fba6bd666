package weights

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// FuzzLoad feeds Load arbitrary bytes, seeded with valid files of every
// dtype. Load must never panic; a file it accepts must build and survive a
// float32 write and reload unchanged.
func FuzzLoad(f *testing.F) {
	f.Add(assemble(smallMeta(), smallTensors(), smallData()))
	f.Add(int8File(0.5, 0.25, 3))
	tiny := &Model{Graph: octcore.Graph{
		{Name: "input", Kind: "input", Out: 2},
		{Name: "o", Kind: "octconv", In: 2, Out: 4, Kernel: 3, Pad: 1, AlphaOut: 0.5, BN: true, Act: "relu"},
		{Name: "m", Kind: "octconv", In: 4, Out: 2, Kernel: 1, AlphaIn: 0.5, Bias: true},
		{Name: "b", Kind: "bn"},
		{Name: "gap", Kind: "gap"},
		{Name: "fc", Kind: "linear", In: 2, Out: 2},
		{Name: "sm", Kind: "softmax"},
	}, Meta: Metadata{Labels: []string{"a", "b"}, Provenance: map[string]string{"k": "v"}}}
	tiny.Params = octcore.RandomParams(tiny.Graph, 1)
	for _, dt := range []string{"int8", "float16", "float32"} {
		f.Add(encode(f, tiny, dt))
	}
	f.Add(encode(f, miniModel(f, 1), "int8"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data)
		if err != nil {
			if m != nil {
				t.Fatal("a model and an error")
			}
			return
		}
		// Load checks everything Build needs: an accepted file builds.
		if _, err := m.Build(); err != nil {
			t.Fatalf("a loaded model does not build: %v", err)
		}
		var b bytes.Buffer
		if err := Write(&b, m, WriteOptions{DType: "float32"}); err != nil {
			t.Fatalf("a loaded model does not write: %v", err)
		}
		m2, err := Load(b.Bytes())
		if err != nil {
			t.Fatalf("a rewritten model does not load: %v", err)
		}
		if !reflect.DeepEqual(m2.Params, m.Params) || !reflect.DeepEqual(m2.Graph, m.Graph) {
			t.Fatal("the float32 rewrite changed the model")
		}
	})
}
