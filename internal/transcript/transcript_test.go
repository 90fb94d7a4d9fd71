package transcript

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "# what this shows\n\nadd x\n----\nok x\n\n# next\nread x\n----\nx=1\nmore\n"
	blocks, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{Comment: "# what this shows\n\n", Cmd: "add x", Want: "ok x\n"},
		{Comment: "# next\n", Cmd: "read x", Want: "x=1\nmore\n"},
	}
	if len(blocks) != len(want) {
		t.Fatalf("%d blocks, want %d: %+v", len(blocks), len(want), blocks)
	}
	for i := range want {
		if blocks[i] != want[i] {
			t.Errorf("block %d = %+v, want %+v", i, blocks[i], want[i])
		}
	}
	for _, bad := range []string{"cmd one\ncmd two\n----\n", "----\nout\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) should fail", bad)
		}
	}
}

func TestRunRewrite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "t.txt")
	os.WriteFile(file, []byte("# c\necho a\n----\nstale\n\necho b\n----\nb\n"), 0o644)
	echo := func(cmd string) string { return strings.TrimPrefix(cmd, "echo ") + "\n" }
	Run(t, file, true, echo)
	got, _ := os.ReadFile(file)
	if string(got) != "# c\necho a\n----\na\n\necho b\n----\nb\n" {
		t.Fatalf("rewritten file:\n%s", got)
	}
	Run(t, file, false, echo) // now it must pass
}
