// Package torchckpt reads PyTorch checkpoints (.pth, .pt) without Python:
// the zip format that torch.save writes since torch 1.6 and the legacy
// format before it (or with _use_new_zipfile_serialization=False), holding a
// state_dict, a {"state_dict": ...} wrapper, or either with the "module."
// prefix of nn.DataParallel. The pickle is decoded by
// github.com/nlpodyssey/gopickle; no code from the file is run.
package torchckpt

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// Tensor is one tensor of a state_dict, converted to float32 and laid out
// contiguously (row-major).
type Tensor struct {
	Shape []int
	// DType is the storage type PyTorch held: "float32", "float16",
	// "bfloat16", "float64", "int64", ...
	DType string
	Data  []float32
}

// StateDict is a checkpoint's tensors by key, and the keys in file order.
type StateDict struct {
	Tensors map[string]*Tensor
	Keys    []string
	// Prefix is the prefix stripped from every key ("module." for
	// nn.DataParallel), "" when none.
	Prefix string
	// Wrapped names the key of the wrapper dict that held the state_dict
	// ("state_dict"), "" for a plain state_dict.
	Wrapped string
}

// ErrQuantized is returned (wrapped) for a torch quantized tensor.
var ErrQuantized = errors.New("torch quantized tensors are not supported: store int8 + scale instead (a float32 state_dict, quantized on import)")

// Load reads the checkpoint at path.
func Load(path string) (sd *StateDict, err error) {
	defer func() {
		// gopickle panics on a few layouts it does not implement (tar
		// archives of torch < 0.4, storage views); report them as errors.
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("%s: unsupported checkpoint layout: %v", path, r)
		}
	}()
	obj, err := pytorch.LoadWithUnpickler(path, func(r io.Reader) pickle.Unpickler {
		u := pickle.NewUnpickler(r)
		u.FindClass = findClass
		return u
	})
	if err != nil {
		if errors.Is(err, ErrQuantized) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, fmt.Errorf("%s: not a readable PyTorch checkpoint: %v", path, err)
	}
	return fromObject(obj)
}

// findClass resolves the globals a state_dict pickle may name besides the
// ones gopickle knows (tensors and storages); every other class is an error,
// so a pickled nn.Module (torch.save(model)) fails with its class name.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_qtensor", "torch._utils._rebuild_qtensor_v2":
		return nil, ErrQuantized
	case "torch._utils._rebuild_parameter":
		return rebuildParameter{}, nil
	case "torch.QInt8Storage", "torch.QUInt8Storage", "torch.QInt32Storage", "torch.QUInt4x2Storage":
		return nil, ErrQuantized
	case "torch.per_tensor_affine", "torch.per_channel_affine":
		return nil, ErrQuantized
	}
	return nil, fmt.Errorf("the pickle names %s.%s, which a state_dict does not hold (save model.state_dict(), not the model)", module, name)
}

// rebuildParameter unwraps an nn.Parameter into its tensor.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter without a tensor")
	}
	return args[0], nil
}

// entries lists the key/value pairs of a pickled dict in order.
func entries(obj any) ([][2]any, bool) {
	switch d := obj.(type) {
	case *types.OrderedDict:
		var out [][2]any
		for e := d.List.Front(); e != nil; e = e.Next() {
			en := e.Value.(*types.OrderedDictEntry)
			out = append(out, [2]any{en.Key, en.Value})
		}
		return out, true
	case *types.Dict:
		var out [][2]any
		for _, en := range *d {
			out = append(out, [2]any{en.Key, en.Value})
		}
		return out, true
	case map[any]any:
		var out [][2]any
		for k, v := range d {
			out = append(out, [2]any{k, v})
		}
		sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i][0]) < fmt.Sprint(out[j][0]) })
		return out, true
	}
	return nil, false
}

func fromObject(obj any) (*StateDict, error) {
	es, ok := entries(obj)
	if !ok {
		return nil, fmt.Errorf("the checkpoint holds a %T, not a state_dict (a dict of tensors)", obj)
	}
	sd := &StateDict{Tensors: map[string]*Tensor{}}
	// A wrapper dict: {"state_dict": {...}, "epoch": ..., "optimizer": ...}.
	hasTensor := false
	for _, e := range es {
		if _, ok := e[1].(*pytorch.Tensor); ok {
			hasTensor = true
		}
	}
	if !hasTensor {
		for _, name := range []string{"state_dict", "model", "model_state_dict", "net"} {
			for _, e := range es {
				if k, _ := e[0].(string); k == name {
					if inner, ok := entries(e[1]); ok {
						es, sd.Wrapped = inner, name
					}
				}
			}
			if sd.Wrapped != "" {
				break
			}
		}
		if sd.Wrapped == "" {
			var keys []string
			for _, e := range es {
				keys = append(keys, fmt.Sprint(e[0]))
			}
			return nil, fmt.Errorf("the checkpoint is a dict without tensors and without a \"state_dict\" entry (keys %v)", keys)
		}
	}
	for _, e := range es {
		k, ok := e[0].(string)
		if !ok {
			return nil, fmt.Errorf("state_dict key %v is a %T, not a string", e[0], e[0])
		}
		t, ok := e[1].(*pytorch.Tensor)
		if !ok {
			return nil, fmt.Errorf("state_dict entry %q is a %T, not a tensor", k, e[1])
		}
		ct, err := convert(t)
		if err != nil {
			return nil, fmt.Errorf("state_dict entry %q: %v", k, err)
		}
		sd.Tensors[k] = ct
		sd.Keys = append(sd.Keys, k)
	}
	// nn.DataParallel saves every key with "module.".
	if len(sd.Keys) > 0 {
		all := true
		for _, k := range sd.Keys {
			all = all && strings.HasPrefix(k, "module.")
		}
		if all {
			sd.Prefix = "module."
			ts := make(map[string]*Tensor, len(sd.Tensors))
			for i, k := range sd.Keys {
				sd.Keys[i] = strings.TrimPrefix(k, "module.")
				ts[sd.Keys[i]] = sd.Tensors[k]
			}
			sd.Tensors = ts
		}
	}
	return sd, nil
}

// convert copies t into a contiguous float32 tensor, following its storage
// offset and strides.
func convert(t *pytorch.Tensor) (*Tensor, error) {
	var get func(i int) float32
	var n int
	dtype := ""
	switch s := t.Source.(type) {
	case *pytorch.FloatStorage:
		dtype, n, get = "float32", len(s.Data), func(i int) float32 { return s.Data[i] }
	case *pytorch.HalfStorage:
		dtype, n, get = "float16", len(s.Data), func(i int) float32 { return s.Data[i] }
	case *pytorch.BFloat16Storage:
		dtype, n, get = "bfloat16", len(s.Data), func(i int) float32 { return s.Data[i] }
	case *pytorch.DoubleStorage:
		dtype, n, get = "float64", len(s.Data), func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.LongStorage:
		dtype, n, get = "int64", len(s.Data), func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.IntStorage:
		dtype, n, get = "int32", len(s.Data), func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.ShortStorage:
		dtype, n, get = "int16", len(s.Data), func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.CharStorage:
		dtype, n, get = "int8", len(s.Data), func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.ByteStorage:
		dtype, n, get = "uint8", len(s.Data), func(i int) float32 { return float32(s.Data[i]) }
	case *pytorch.BoolStorage:
		dtype, n, get = "bool", len(s.Data), func(i int) float32 {
			if s.Data[i] {
				return 1
			}
			return 0
		}
	default:
		return nil, fmt.Errorf("unsupported storage %T", t.Source)
	}
	if len(t.Stride) != len(t.Size) {
		return nil, fmt.Errorf("shape %v with strides %v", t.Size, t.Stride)
	}
	count := 1
	for _, d := range t.Size {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in shape %v", t.Size)
		}
		count *= d
	}
	out := &Tensor{Shape: append([]int(nil), t.Size...), DType: dtype, Data: make([]float32, count)}
	if count == 0 {
		return out, nil
	}
	// The largest index the strides reach must lie inside the storage.
	last := t.StorageOffset
	for i, d := range t.Size {
		if t.Stride[i] < 0 {
			return nil, fmt.Errorf("negative stride in %v", t.Stride)
		}
		last += (d - 1) * t.Stride[i]
	}
	if t.StorageOffset < 0 || last >= n {
		return nil, fmt.Errorf("shape %v, strides %v at offset %d reach past its storage of %d elements", t.Size, t.Stride, t.StorageOffset, n)
	}
	if f, ok := t.Source.(*pytorch.FloatStorage); ok && contiguous(t.Size, t.Stride) {
		copy(out.Data, f.Data[t.StorageOffset:t.StorageOffset+count])
		return out, nil
	}
	idx := make([]int, len(t.Size))
	for o := range out.Data {
		off := t.StorageOffset
		for i, v := range idx {
			off += v * t.Stride[i]
		}
		out.Data[o] = get(off)
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < t.Size[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}

func contiguous(size, stride []int) bool {
	want := 1
	for i := len(size) - 1; i >= 0; i-- {
		if size[i] != 1 && stride[i] != want {
			return false
		}
		want *= size[i]
	}
	return true
}
