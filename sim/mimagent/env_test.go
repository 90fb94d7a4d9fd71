package mimagent

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gmsasim/gmsasim/sim/mim"
)

func TestEnvApplyDefaultWorld(t *testing.T) {
	w, m, err := mim.NewDefaultWorld(mim.DefaultOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	env, err := Serve(w, m)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	var progress bytes.Buffer
	p, res, err := env.Apply(context.Background(), RunOptions{Journal: filepath.Join(t.TempDir(), "j.json"), Progress: &progress})
	if err != nil {
		t.Fatalf("apply: %v\nprogress:\n%s", err, progress.String())
	}
	if len(res.Ran) != len(p.Steps) {
		t.Errorf("ran %d of %d steps", len(res.Ran), len(p.Steps))
	}
	state := HostState(m)
	t.Logf("host state:\n%s", state)
	for _, want := range []string{`MIMSYNC sync: Running as CONTOSO\MIMSyncGMSA$`, `MIMSVC portal: Running as CONTOSO\svc-mimservice (unsupported, left alone)`} {
		if !strings.Contains(state, want) {
			t.Errorf("host state lacks %q", want)
		}
	}
}
