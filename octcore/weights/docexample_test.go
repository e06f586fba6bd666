//go:build !js

package weights

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/octave-project/octave/octcore"
)

// TestFormatDocPyTorchExample runs docs/FORMAT.md's PyTorch example (its
// first python block, with its standard-library safetensors writer) with
// Debian's /usr/bin/python3 and python3-torch, and loads and runs the file
// it writes.
func TestFormatDocPyTorchExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "FORMAT.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "```python\n")
	if i < 0 {
		t.Fatal("docs/FORMAT.md has no python block")
	}
	s = s[i+len("```python\n"):]
	code := s[:strings.Index(s, "\n```")]
	if strings.Contains(code, "import safetensors") || strings.Contains(code, "from safetensors") {
		t.Fatal("the FORMAT.md example imports the safetensors package, which Debian lacks")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Fatalf("/usr/bin/python3 cannot import torch (%v): apt-get install -y python3-torch libopenblas0-pthread (make deps does it as root)", err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "example.py")
	if err := os.WriteFile(script, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the FORMAT.md example fails: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "oct-cnn.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(data)
	if err != nil {
		t.Fatalf("loading the example's file: %v", err)
	}
	if m.Meta.Name != "oct-cnn alpha 0.5 example" || len(m.Meta.Labels) != 10 {
		t.Fatalf("name %q, %d labels", m.Meta.Name, len(m.Meta.Labels))
	}
	net, err := m.Build()
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.Run(octcore.NewTensor(3, 32, 32))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.H.Data); n != 10 {
		t.Fatalf("%d outputs, want 10", n)
	}
}
