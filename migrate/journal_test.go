package migrate_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/migrate"
)

// crashedJournal is an apply stopped after its fifth step (the fifth step's result not
// journaled): records 1-8 are the intents and results of steps 1-4, record 9 step 5's intent.
func crashedJournal(t *testing.T) (*mimWorld, *migrate.Plan, []string) {
	t.Helper()
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	_, rep, plan := m.prepare(t)
	fifth := plan.Steps[4].ID
	_, err := m.eng.Apply(m.ctx, plan, rep, migrate.Options{Journal: m.journal,
		Interrupt: func(step string, at migrate.CrashPoint) bool { return step == fifth && at == migrate.AfterStep }})
	if !errors.Is(err, migrate.ErrInterrupted) {
		t.Fatalf("apply: %v, want ErrInterrupted", err)
	}
	b, err := os.ReadFile(m.journal)
	mustf(t, err, "read journal")
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 10 {
		t.Fatalf("journal has %d lines, want the header and 9 records:\n%s", len(lines), b)
	}
	return m, plan, lines
}

var (
	hashMember = regexp.MustCompile(`,"hash":"[0-9a-f]{64}"}$`)
	prevMember = regexp.MustCompile(`"prev":"[^"]*"`)
)

// rechain does what doc.go says a writer does, from line `from` on: prev is the previous
// record's hash (the plan's digest for record 1), hash the SHA-256 of the line without its hash
// member. It is the determined editor who recomputes the chain.
func rechain(t *testing.T, lines []string, from int) {
	t.Helper()
	prev := regexp.MustCompile(`"planHash":"([0-9a-f]{64})"`).FindStringSubmatch(lines[0])[1]
	for i := 1; i < len(lines); i++ {
		body := hashMember.ReplaceAllString(lines[i], "}")
		if i >= from {
			body = prevMember.ReplaceAllString(body, `"prev":"`+prev+`"`)
		}
		sum := sha256.Sum256([]byte(body))
		h := hex.EncodeToString(sum[:])
		if i >= from {
			lines[i] = strings.TrimSuffix(body, "}") + `,"hash":"` + h + `"}`
		} else if !strings.HasSuffix(lines[i], `"hash":"`+h+`"}`) {
			t.Fatalf("line %d's hash is not what doc.go says: %s", i+1, lines[i])
		}
		prev = h
	}
}

func TestJournalRefusesEditedDeletedReorderedAndForgedRecords(t *testing.T) {
	m, plan, orig := crashedJournal(t)
	later := plan.Steps[9].ID // a step that has not run
	cases := []struct {
		name   string
		edit   func(l []string) []string
		record int
		want   string
	}{
		{"a step's status changed", func(l []string) []string {
			l[4] = strings.Replace(l[4], `"phase":"done"`, `"phase":"failed"`, 1) // record 4: step 2 done
			return l
		}, 4, "the record was edited"},
		{"a status changed and that record's hash recomputed", func(l []string) []string {
			l[4] = strings.Replace(l[4], `"phase":"done"`, `"phase":"failed"`, 1)
			body := hashMember.ReplaceAllString(l[4], "}")
			sum := sha256.Sum256([]byte(body))
			l[4] = strings.TrimSuffix(body, "}") + `,"hash":"` + hex.EncodeToString(sum[:]) + `"}`
			return l
		}, 5, "prev is"},
		{"a line deleted", func(l []string) []string { return append(l[:3:3], l[4:]...) }, 3, "seq is 4, want 3"},
		{"two lines swapped", func(l []string) []string { l[3], l[4] = l[4], l[3]; return l }, 3, "seq is 4, want 3"},
		{"the last record edited", func(l []string) []string {
			l[9] = strings.Replace(l[9], `"phase":"intent"`, `"phase":"done"`, 1)
			return l
		}, 9, "the record was edited"},
		{"a forged done appended by a tool that knows no chain", func(l []string) []string {
			return append(l, fmt.Sprintf(`{"seq":10,"step":%q,"phase":"done"}`, plan.Steps[4].ID))
		}, 10, `does not end with its "hash" member`},
		{"a forged done inserted with a valid hash", func(l []string) []string {
			forged := fmt.Sprintf(`{"seq":9,"step":%q,"phase":"done","prev":"x"}`, later)
			out := append(append(l[:9:9], forged), l[9:]...)
			rechain(t, out, 9)
			return out[:10] // the forged record is now the last: the chain is whole
		}, 9, "done record of step " + later + " without its intent"},
		{"an intent out of plan order, chain recomputed", func(l []string) []string {
			out := append(l[:9:9], fmt.Sprintf(`{"seq":9,"step":%q,"phase":"intent","prev":"x"}`, later))
			rechain(t, out, 9)
			return out
		}, 9, "intent of step " + later + " before step " + plan.Steps[4].ID + ", earlier in the plan, completed"},
		{"an unknown phase, chain recomputed", func(l []string) []string {
			l[4] = strings.Replace(l[4], `"phase":"done"`, `"phase":"skipped"`, 1)
			rechain(t, l, 4)
			return l
		}, 4, `unknown phase "skipped"`},
		{"an unknown step, chain recomputed", func(l []string) []string {
			l[3] = strings.Replace(l[3], `"step":"`+plan.Steps[1].ID+`"`, `"step":"format-disk@mimsync.contoso.com"`, 1)
			rechain(t, l, 3)
			return l
		}, 3, `unknown step "format-disk@mimsync.contoso.com"`},
		{"an unknown rollback step, chain recomputed", func(l []string) []string {
			out := append(l, `{"seq":10,"step":"rollback:format-disk@mimsync.contoso.com","phase":"intent","prev":"x"}`)
			rechain(t, out, 10)
			return out
		}, 10, `unknown rollback step "rollback:format-disk@mimsync.contoso.com"`},
		{"an unknown field, chain recomputed", func(l []string) []string {
			l[2] = strings.Replace(l[2], `"phase":"done"`, `"phase":"done","status":"skip"`, 1)
			rechain(t, l, 2)
			return l
		}, 2, `unknown field "status"`},
		{"the records under another plan's header", func(l []string) []string {
			other := *plan
			other.KeySetPath = `C:\elsewhere.bin`
			b, err := json.Marshal(&other)
			mustf(t, err, "plan")
			l[0] = fmt.Sprintf(`{"format":2,"planHash":%q,"plan":%s}`, other.Hash(), b)
			return l
		}, 1, "the plan's digest is"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			edited := []byte(strings.Join(c.edit(append([]string(nil), orig...)), "\n") + "\n")
			mustf(t, os.WriteFile(m.journal, edited, 0o600), "write")
			_, err := migrate.OpenJournal(m.journal)
			var je *migrate.JournalError
			if !errors.As(err, &je) || !errors.Is(err, migrate.ErrJournal) {
				t.Fatalf("OpenJournal: %v, want a *JournalError", err)
			}
			wantAt := fmt.Sprintf("journal %s: record %d (line %d):", m.journal, c.record, c.record+1)
			if je.Record != c.record || !strings.Contains(err.Error(), wantAt) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("OpenJournal: %v\nwant %q and %q", err, wantAt, c.want)
			}
			if _, err := m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal}); !errors.As(err, &je) || je.Record != c.record {
				t.Errorf("Resume: %v, want the same refusal", err)
			}
			if _, err := m.eng.Rollback(m.ctx, migrate.Options{Journal: m.journal}); !errors.As(err, &je) || je.Record != c.record {
				t.Errorf("Rollback: %v, want the same refusal", err)
			}
			if b, _ := os.ReadFile(m.journal); !bytes.Equal(b, edited) {
				t.Errorf("the refused journal was changed")
			}
		})
	}

	// Divergence: the chain has no key. An editor who writes a record the engine could have
	// written next (the running step's result) and recomputes its hash is not detected; doc.go
	// says so. Here: step 5's "done", forged.
	t.Run("a plausible next record with its chain recomputed is accepted", func(t *testing.T) {
		forged := append(append([]string(nil), orig...), fmt.Sprintf(`{"seq":10,"step":%q,"phase":"done","prev":"x"}`, plan.Steps[4].ID))
		rechain(t, forged, 10)
		mustf(t, os.WriteFile(m.journal, []byte(strings.Join(forged, "\n")+"\n"), 0o600), "write")
		j, err := migrate.OpenJournal(m.journal)
		mustf(t, err, "open")
		if !j.Done(plan.Steps[4].ID) {
			t.Errorf("the forged done is not read")
		}
	})
}

// A crash while a record is being written leaves a last line without its newline: it was never
// acknowledged, so it is read as not written, and the next writer cuts it off.
func TestJournalTornLastLineIsNotWritten(t *testing.T) {
	m, plan, lines := crashedJournal(t)
	whole := strings.Join(lines, "\n") + "\n"
	torn := whole + `{"seq":10,"step":"` + plan.Steps[4].ID + `","phase":"do`
	mustf(t, os.WriteFile(m.journal, []byte(torn), 0o600), "write")
	j, err := migrate.OpenJournal(m.journal)
	mustf(t, err, "open a journal with a torn last line")
	if len(j.Records) != 9 || j.Torn == 0 || j.Done(plan.Steps[4].ID) {
		t.Errorf("records %d (want 9), torn %d bytes (want > 0), step 5 done %t (want false)", len(j.Records), j.Torn, j.Done(plan.Steps[4].ID))
	}
	var progress strings.Builder
	res, err := m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal, Progress: &progress})
	mustf(t, err, "resume")
	if len(res.Skipped) != 4 || !strings.Contains(progress.String(), "cut off a torn last line") {
		t.Errorf("resume skipped %q (want the 4 completed steps); progress:\n%s", res.Skipped, progress.String())
	}
	b, _ := os.ReadFile(m.journal)
	if !strings.HasPrefix(string(b), whole) || strings.Contains(string(b), `"phase":"do{`) {
		t.Errorf("resume did not cut the torn line off before appending")
	}
	if _, err := migrate.OpenJournal(m.journal); err != nil {
		t.Errorf("the resumed journal: %v", err)
	}

	// A line that ends with its newline is whole: damage there is refused, not skipped.
	mustf(t, os.WriteFile(m.journal, []byte(whole+"{\"seq\":10,\"ste\n"), 0o600), "write")
	var je *migrate.JournalError
	if _, err := migrate.OpenJournal(m.journal); !errors.As(err, &je) || je.Record != 10 {
		t.Errorf("a damaged whole last line: %v, want record 10 refused", err)
	}
}

func TestJournalRefusesAFormat1Journal(t *testing.T) {
	m := newMIMWorld(t, worldOpts{keyAge: 11 * time.Hour})
	mustf(t, os.WriteFile(m.journal, []byte("{\n \"format\": 1,\n \"planHash\": \"x\",\n \"plan\": {},\n \"records\": []\n}\n"), 0o600), "write")
	if _, err := m.eng.Resume(m.ctx, migrate.Options{Journal: m.journal}); !errors.Is(err, migrate.ErrJournal) || !strings.Contains(err.Error(), "format 1 journal") {
		t.Errorf("resume of a format 1 journal: %v", err)
	}
}

func TestJournalRefusesAnEditedPlanOrAForeignFile(t *testing.T) {
	dir := t.TempDir()
	p := &migrate.Plan{Version: 1, Domain: "contoso.com", NetBIOS: "CONTOSO", Steps: []migrate.Step{{ID: "group:G", Kind: migrate.StepGroup, Object: "G"}}}
	path := filepath.Join(dir, "j.json")
	j, err := migrate.CreateJournal(path, p)
	mustf(t, err, "create")
	if _, err := migrate.CreateJournal(path, p); !errors.Is(err, migrate.ErrJournalLocked) {
		t.Errorf("second create while the first holds the journal: %v, want ErrJournalLocked", err)
	}
	mustf(t, j.Close(), "close")
	if _, err := migrate.CreateJournal(path, p); !errors.Is(err, migrate.ErrJournal) || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second create: %v", err)
	}
	b, _ := os.ReadFile(path)
	edited := strings.Replace(string(b), `"group:G"`, `"group:H"`, 1)
	mustf(t, os.WriteFile(path, []byte(edited), 0o600), "write")
	if _, err := migrate.OpenJournal(path); !errors.Is(err, migrate.ErrJournal) || !strings.Contains(err.Error(), "edited") {
		t.Errorf("edited plan: %v", err)
	}
	mustf(t, os.WriteFile(path, []byte(`{"format":1,"plan":`), 0o600), "write")
	if _, err := migrate.OpenJournal(path); !errors.Is(err, migrate.ErrJournal) {
		t.Errorf("torn file: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %d entries", len(entries))
	}
}
