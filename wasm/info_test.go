//go:build js && wasm

package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/octave-project/octave/octcore/weights"
)

// TestInfoJSON: the hand-written info JSON is what encoding/json writes for
// modelInfo, for models with and without a low branch, labels or provenance,
// and it names every field of modelInfo, layerInfo and inputInfo.
func TestInfoJSON(t *testing.T) {
	for _, alpha := range []float64{0, 0.5} {
		file, _, _ := testFile(t, alpha)
		wm, err := weights.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		wm.Meta.Provenance = map[string]string{"z": "last", "a": "<&>\u2028", "dataset": "fashion-mnist"}
		for _, labels := range [][]string{wm.Meta.Labels, nil} {
			wm.Meta.Labels = labels
			m, err := newModel(wm)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.infoJSON()
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(&m.info)
			if got != string(want) {
				t.Fatalf("alpha %v: info JSON\n %s\nencoding/json\n %s", alpha, got, want)
			}
			m.info.Provenance, m.info.Layers = nil, nil
			got, _ = m.infoJSON()
			want, _ = json.Marshal(&m.info)
			if got != string(want) {
				t.Fatalf("nil maps and lists: %s, encoding/json %s", got, want)
			}
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(modelInfo{}), reflect.TypeOf(layerInfo{}), reflect.TypeOf(inputInfo{}), reflect.TypeOf(pathMACs{})} {
		file, _, _ := testFile(t, 0.5)
		wm, err := weights.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		// The optional preprocessing keys, written when set.
		wm.Meta.Input.ResizeShorter, wm.Meta.Input.Crop = 32, weights.CropCenter
		m, err := newModel(wm)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := m.infoJSON()
		if want, _ := json.Marshal(&m.info); got != string(want) {
			t.Fatalf("with resize and crop: info JSON\n %s\nencoding/json\n %s", got, want)
		}
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if !strings.Contains(got, `"`+name+`":`) {
				t.Errorf("%s field %q is missing from the info JSON", typ.Name(), name)
			}
		}
	}
}
