// Package transcript runs the model-level transcript tests of fakead and sim: files of blocks,
// each a one-line command, a "----" line and the output the command must give, ended by a blank
// line; lines before a command that are blank or start with "#" are kept as its comment. With
// rewrite the outputs are regenerated in place and reviewers read the diff (the
// cockroachdb/datadriven form, in its simplest shape).
package transcript

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Block is one command with the comment lines before it and its expected output (each line
// ending in "\n").
type Block struct {
	Comment, Cmd, Want string
}

// Parse reads the blocks of a transcript.
func Parse(data []byte) ([]Block, error) {
	var blocks []Block
	var cur Block
	inOut := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case inOut && line == "":
			blocks = append(blocks, cur)
			cur, inOut = Block{}, false
		case inOut:
			cur.Want += line + "\n"
		case line == "----":
			if cur.Cmd == "" {
				return nil, fmt.Errorf("line %d: \"----\" without a command before it", n)
			}
			inOut = true
		case cur.Cmd == "" && (line == "" || strings.HasPrefix(line, "#")):
			cur.Comment += line + "\n"
		case cur.Cmd == "":
			cur.Cmd = line
		default:
			return nil, fmt.Errorf("line %d: a command has one line; %q follows %q", n, line, cur.Cmd)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur.Cmd != "" {
		blocks = append(blocks, cur)
	}
	return blocks, nil
}

// Run runs every command of file through run, in order, and reports each output that differs from
// the expected one; with rewrite it writes the outputs back into file instead.
func Run(t testing.TB, file string, rewrite bool, run func(cmd string) string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out strings.Builder
	for i := range blocks {
		b := &blocks[i]
		got := run(b.Cmd)
		if rewrite {
			b.Want = got
		} else if got != b.Want {
			t.Errorf("%s: %s\ngot:\n%swant:\n%s", file, b.Cmd, got, b.Want)
		}
		out.WriteString(b.Comment + b.Cmd + "\n----\n" + b.Want + "\n")
	}
	if rewrite {
		if err := os.WriteFile(file, []byte(strings.TrimSuffix(out.String(), "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// RunFiles runs every file matching pattern as a subtest named after the file, each with a fresh
// interpreter from start; a pattern that matches nothing fails (a moved testdata directory must not
// turn the test into a no-op).
func RunFiles(t *testing.T, pattern string, rewrite bool, start func(t *testing.T) func(cmd string) string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts match %s (%v)", pattern, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { Run(t, file, rewrite, start(t)) })
	}
}
