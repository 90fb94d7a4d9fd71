package transcript

import (
	"errors"
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
	want := []struct{ comment, cmd, want string }{
		{"# what this shows\n\n", "add x", "ok x\n"},
		{"# next\n", "read x", "x=1\nmore\n"},
	}
	if len(blocks) != len(want) {
		t.Fatalf("%d blocks, want %d: %+v", len(blocks), len(want), blocks)
	}
	for i, w := range want {
		if b := blocks[i]; b.Comment != w.comment || b.Cmd != w.cmd || b.Want() != w.want {
			t.Errorf("block %d = %+v, want %+v", i, b, w)
		}
	}
	// The scenario form: input lines, and an output with blank lines between doubled separators.
	lines := strings.Split("ps on=DC1\nGet-X\n  -Y 1\n----\n----\na\n\nb\n----\n----\nnext\n----\nok", "\n")
	sb, err := ParseLines(lines, 0)
	if err != nil || len(sb) != 2 {
		t.Fatalf("scenario form: %+v, %v", sb, err)
	}
	if b := sb[0]; b.Line != 1 || len(b.Input) != 2 || strings.Join(b.Out, "|") != "a||b" || b.OutFrom != 3 || b.OutTo != 10 {
		t.Errorf("doubled block = %+v", b)
	}
	for in, kind := range map[string]SyntaxKind{"----\nout": SepWithoutCommand, "cmd\ninput\n\n----": BlankInInput,
		"cmd\ninput": NoSeparator, "cmd\n----\n----\nout": UnclosedOutput} {
		var se *SyntaxError
		if _, err := ParseLines(strings.Split(in, "\n"), 0); !errors.As(err, &se) || se.Kind != kind {
			t.Errorf("ParseLines(%q) = %v, want kind %d", in, err, kind)
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
