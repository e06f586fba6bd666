package train

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The checkpoints of runs started before the recipe moved here were gob
// encodings of cmd/octave's checkpoint and trainOpts types; this is their
// layout, field for field, so that such runs still resume.
type oldTrainOpts struct {
	Dataset     string
	Alpha       float64
	Width       float64
	Epochs      int
	Batch       int
	LR          float64
	WeightDecay float64
	Seed        int64
	Val         int
	Limit       int
	Workers     int
}

type oldCheckpoint struct {
	Opts     oldTrainOpts
	Epoch    int
	Step     int
	Params   map[string][]float32
	Velocity []float32
	Seconds  float64
	Log      []string
}

func TestCheckpointOldLayout(t *testing.T) {
	old := oldCheckpoint{
		Opts:  oldTrainOpts{Dataset: "fashion-mnist", Alpha: 0.5, Width: 1, Epochs: 20, Batch: 128, LR: 0.1, WeightDecay: 5e-4, Seed: 2, Val: 5000, Workers: 2},
		Epoch: 3, Step: 1170, Params: map[string][]float32{"stem.conv.weight": {1, -2.5, 3}},
		Velocity: []float32{0.25, -1}, Seconds: 1234.5, Log: []string{"epoch 1/20: ..."},
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&old); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.ckpt")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Recipe(old.Opts)
	if ck.Opts != want || ck.Epoch != 3 || ck.Step != 1170 || ck.Seconds != 1234.5 ||
		!reflect.DeepEqual(ck.Params, old.Params) || !reflect.DeepEqual(ck.Velocity, old.Velocity) || !reflect.DeepEqual(ck.Log, old.Log) {
		t.Fatalf("decoded %+v, want the fields of %+v", ck, old)
	}
	// And the other way: a checkpoint saved now reads as the old layout.
	path2 := filepath.Join(t.TempDir(), "y.ckpt")
	if err := SaveCheckpoint(path2, ck); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path2)
	if err != nil {
		t.Fatal(err)
	}
	var back oldCheckpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, old) {
		t.Fatalf("round trip %+v, want %+v", back, old)
	}
}

func TestRecipeCheck(t *testing.T) {
	good := Recipe{Dataset: "mnist", Epochs: 1, Batch: 1, LR: 0.1, Workers: 1}
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Recipe{
		{Dataset: "cifar", Epochs: 1, Batch: 1, LR: 0.1, Workers: 1},
		{Dataset: "mnist", Epochs: 0, Batch: 1, LR: 0.1, Workers: 1},
		{Dataset: "mnist", Epochs: 1, Batch: 1, LR: 0, Workers: 1},
		{Dataset: "mnist", Epochs: 1, Batch: 1, LR: 0.1, Workers: 1, Val: -1},
	} {
		if err := r.Check(); err == nil {
			t.Errorf("%+v passed Check", r)
		}
	}
}
