package weights

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// dataDigest is the SHA-256 of a file's data section, computed here from the
// byte layout (length, header, data) with the standard library's hex.
func dataDigest(file []byte) string {
	n := binary.LittleEndian.Uint64(file)
	sum := sha256.Sum256(file[8+n:])
	return hex.EncodeToString(sum[:])
}

// TestIntegrityWritten checks that Write stores the data section's digest and
// Load reports it, for every dtype.
func TestIntegrityWritten(t *testing.T) {
	m := miniModel(t, 3)
	for _, dt := range []string{"int8", "float16", "float32"} {
		f := encode(t, m, dt)
		want := dataDigest(f)
		if !bytes.Contains(f, []byte(`"data_sha256":"`+want+`"`)) {
			t.Errorf("%s: the header does not carry data_sha256 %s", dt, want)
		}
		got, err := Load(f)
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		if got.Meta.DataSHA256 != want {
			t.Errorf("%s: Meta.DataSHA256 = %q, want %q", dt, got.Meta.DataSHA256, want)
		}
		if _, ok := got.Meta.Provenance[keyDataSHA256]; ok {
			t.Errorf("%s: data_sha256 leaked into the provenance", dt)
		}
		// A loaded model writes again, with the digest of what it writes.
		var b bytes.Buffer
		got.Meta.DataSHA256 = "stale"
		if err := Write(&b, got, WriteOptions{DType: "float32"}); err != nil {
			t.Fatalf("%s: rewrite: %v", dt, err)
		}
		if again, err := Load(b.Bytes()); err != nil || again.Meta.DataSHA256 != dataDigest(b.Bytes()) {
			t.Fatalf("%s: the rewritten file: %v, digest %q", dt, err, again.Meta.DataSHA256)
		}
	}
	bad := *m
	bad.Meta.Provenance = map[string]string{keyDataSHA256: "x"}
	if err := Write(&bytes.Buffer{}, &bad, WriteOptions{}); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("a provenance key data_sha256: %v, want a reserved-key error", err)
	}
}

// TestIntegrityCorruption flips bytes of a written file's data section: every
// flip is refused with an error that names the digest. Without the field the
// same flip goes unnoticed for most bytes, which is what the field is for.
func TestIntegrityCorruption(t *testing.T) {
	f := encode(t, miniModel(t, 4), "int8")
	hlen := int(binary.LittleEndian.Uint64(f))
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		c := append([]byte(nil), f...)
		at := 8 + hlen + rng.Intn(len(f)-8-hlen)
		c[at] ^= byte(1 + rng.Intn(255))
		_, err := Load(c)
		if err == nil {
			t.Fatalf("byte %d changed: the file still loads", at)
		}
		// Either the value itself is invalid (an int8 -128, a NaN) or the
		// digest differs; most flips leave valid values.
		if !strings.Contains(err.Error(), "data_sha256") && !strings.Contains(err.Error(), "element") {
			t.Fatalf("byte %d changed: %v", at, err)
		}
	}
}

// TestIntegrityOptional checks hand-assembled files: without the field a file
// loads as before; with the right digest it loads and reports it; a wrong or
// malformed digest is refused.
func TestIntegrityOptional(t *testing.T) {
	plain := assemble(smallMeta(), smallTensors(), smallData())
	m, err := Load(plain)
	if err != nil || m.Meta.DataSHA256 != "" {
		t.Fatalf("a file without data_sha256: %v, digest %q", err, m.Meta.DataSHA256)
	}
	sum := sha256.Sum256(smallData())
	good := hex.EncodeToString(sum[:])
	if m, err := Load(assemble(withMeta(keyDataSHA256, good), smallTensors(), smallData())); err != nil || m.Meta.DataSHA256 != good {
		t.Fatalf("the right digest: %v", err)
	}
	wrong := []byte(good)
	wrong[0] = "01"[map[bool]int{true: 1}[wrong[0] == '0']]
	for _, c := range []struct{ value, want string }{
		{string(wrong), "corrupted"},
		{strings.ToUpper(good), "lowercase hex"},
		{good[:63], "64 lowercase hex"},
		{"sha256:" + good, "64 lowercase hex"},
	} {
		_, err := Load(assemble(withMeta(keyDataSHA256, c.value), smallTensors(), smallData()))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "data_sha256") {
			t.Errorf("data_sha256 %q: %v, want an error mentioning %q", c.value, err, c.want)
		}
	}
}

// TestLoadBudgets checks the graph limits: each is refused from the header,
// with the figure in the message, and a graph at the limit still loads.
func TestLoadBudgets(t *testing.T) {
	relus := func(n int) string {
		var b strings.Builder
		b.WriteString(`[{"name":"input","kind":"input","out":1}`)
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, `,{"name":"r%d","kind":"relu"}`, i)
		}
		return b.String() + "]"
	}
	tiny := `{"channels":1,"height":1,"width":1,"mean":[0],"std":[1]}`
	if _, err := Load(assemble(map[string]string{"format": "octave/1", "graph": relus(MaxLayers), "input": tiny}, nil, nil)); err != nil {
		t.Errorf("%d layers: %v", MaxLayers, err)
	}
	_, err := Load(assemble(map[string]string{"format": "octave/1", "graph": relus(MaxLayers + 1), "input": tiny}, nil, nil))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d layers", MaxLayers+1)) || !strings.Contains(err.Error(), fmt.Sprint(MaxLayers)) {
		t.Errorf("%d layers: %v", MaxLayers+1, err)
	}

	// A 1x1 conv to 1024 channels on a 1024x1024 input: 1,024 + 1,024 bias
	// parameters, (1 + 1024) * 2^20 activations. Its tensors need 8 KB.
	conv := func(h int) []byte {
		g := `[{"name":"input","kind":"input","out":1},{"name":"c","kind":"conv","in":1,"out":1024,"kernel":1,"bias":true}]`
		in := fmt.Sprintf(`{"channels":1,"height":%d,"width":%d,"mean":[0],"std":[1]}`, h, h)
		return assemble(map[string]string{"format": "octave/1", "graph": g, "input": in},
			[]tensorJSON{{"c.weight", "F32", []int{1024, 1, 1, 1}, 0, 4096}, {"c.bias", "F32", []int{1024}, 4096, 8192}}, make([]byte, 8192))
	}
	if _, err := Load(conv(255)); err != nil { // 66.7 M activations, just under 2^26
		t.Errorf("255x255: %v", err)
	}
	want := fmt.Sprint(1025 * 1024 * 1024)
	_, err = Load(conv(1024))
	if err == nil || !strings.Contains(err.Error(), want+" activations") || !strings.Contains(err.Error(), "1024x1024") || !strings.Contains(err.Error(), fmt.Sprint(MaxActivations)) {
		t.Errorf("1024x1024: %v, want the figure %s", err, want)
	}

	// 64 convs of 2048 -> 2048 channels, 3x3: 64 * 37.7 M parameters. The
	// header alone is refused; no tensor is there.
	var b strings.Builder
	b.WriteString(`[{"name":"input","kind":"input","out":2048}`)
	for i := 0; i < 64; i++ {
		fmt.Fprintf(&b, `,{"name":"c%d","kind":"conv","in":2048,"out":2048,"kernel":3,"pad":1}`, i)
	}
	b.WriteString("]")
	in := `{"channels":2048,"height":1,"width":1,"mean":[0` + strings.Repeat(",0", 2047) + `],"std":[1` + strings.Repeat(",1", 2047) + "]}"
	_, err = Load(assemble(map[string]string{"format": "octave/1", "graph": b.String(), "input": in}, nil, nil))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(MaxParams)) || !strings.Contains(err.Error(), "parameters") {
		t.Errorf("%d parameters: %v", 64*2048*2048*9, err)
	}
}

// TestSHA256 checks the package's SHA-256 against crypto/sha256 on every
// length around the block and padding boundaries, split into parts.
func TestSHA256(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	buf := make([]byte, 300)
	rng.Read(buf)
	for n := 0; n <= len(buf); n++ {
		want := sha256.Sum256(buf[:n])
		cut := rng.Intn(n + 1)
		if got := sha256Hex(buf[:cut], buf[cut:n]); got != hex.EncodeToString(want[:]) {
			t.Fatalf("%d bytes (cut at %d): %s, crypto/sha256 %x", n, cut, got, want)
		}
	}
	// FIPS 180-4's one-block example.
	if got := sha256Hex([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("sha256(abc) = %s", got)
	}
}
