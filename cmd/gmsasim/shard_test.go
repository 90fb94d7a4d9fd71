package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// --shard K/N splits the selection into N disjoint parts that cover it, sizes within one, the same
// parts on every run (issue 12, item 6).
func TestRunShards(t *testing.T) {
	// Seven one-DC worlds: what is tested is the split, not the scenarios (the library runs elsewhere).
	dir := t.TempDir()
	var files []string
	for i := 1; i <= 7; i++ {
		f := filepath.Join(dir, fmt.Sprintf("tiny-%d.scn", i))
		if err := os.WriteFile(f, fmt.Appendf(nil, "# tiny world %d\nworld seed=%d\ndc DC1 os=2016\n----\n", i, i), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var out, errb bytes.Buffer
	if code := runRun(append(append([]string{}, files...), "--rewrite"), &out, &errb); code != 0 {
		t.Fatalf("run --rewrite: exit %d\n%s%s", code, out.String(), errb.String())
	}
	ran := func(args ...string) []string {
		var out, errb bytes.Buffer
		if code := runRun(append(append([]string{}, files...), args...), &out, &errb); code != 0 {
			t.Fatalf("run %v: exit %d\n%s%s", args, code, out.String(), errb.String())
		}
		var names []string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "ok   ") {
				names = append(names, strings.Fields(l)[1])
			}
		}
		return names
	}
	all := ran()
	if len(all) != 7 {
		t.Fatalf("the whole selection ran %d scenarios, want 7: %v", len(all), all)
	}
	var union []string
	sizes := map[int]bool{}
	for k := 1; k <= 3; k++ {
		part := ran("--shard", []string{"1/3", "2/3", "3/3"}[k-1])
		if again := ran("--shard", []string{"1/3", "2/3", "3/3"}[k-1]); !slices.Equal(part, again) {
			t.Errorf("shard %d/3 differs between runs: %v vs %v", k, part, again)
		}
		sizes[len(part)] = true
		union = append(union, part...)
	}
	slices.Sort(union)
	slices.Sort(all)
	if !slices.Equal(union, all) {
		t.Errorf("the shards' union %v is not the selection %v (overlap or a gap)", union, all)
	}
	if len(sizes) > 2 {
		t.Errorf("shard sizes %v differ by more than one", sizes)
	}
	out.Reset()
	errb.Reset()
	if code := runRun([]string{"--shard", "0/3"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "want K/N") {
		t.Errorf("--shard 0/3: exit %d, %q", code, errb.String())
	}
}
