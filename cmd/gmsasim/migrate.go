package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/internal/safefile"
	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/scenarios"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/mim"
	"github.com/gmsasim/gmsasim/sim/mimagent"
)

// gmsasim migrate: the MIM → gMSA engine (package migrate) against a simulated MIM world. The
// engine reaches the world's DCs over real LDAPS sockets on 127.0.0.1 and its hosts through
// sim/mimagent. Because the world lives in this process, its state is saved next to the journal
// (JOURNAL.world.json: every replica as LDIF, the hosts and MIM hosts as JSON, the simulated
// time) at every step boundary; resume and rollback load it back.

const migrateUsage = `usage: gmsasim migrate plan|apply|resume|rollback [--world FILE] --journal FILE [--crash-after STEP]
                        [--seed N] [--root-key eligible|fresh|none] [--json]
                        [--gmsa COMPONENT:NAME,...] [--installer COMPONENT:ACCOUNT,...]
                        [--sync-group NAME] [--service-group NAME] [--root-key-rule interval-start|one-interval-ago]
                        [--mode change-mode|script]

  plan      inventory, preflight and the plan (text; --json for the plan as JSON)
  apply     preflight, plan and apply with a new journal; --crash-after STEP stops right after that
            step's effect (before its result is journaled), as a killed process would (exit 3)
  resume    reload the world saved next to the journal and continue from the journal
  rollback  reload the world saved next to the journal and return every service to its account

--gmsa names a component's gMSA (sync:MIMSyncGMSAsvc; components: sync, service, pam-rest,
pam-component, pam-monitoring, sspr-registration, sspr-reset); an existing gMSA or group of that
name is adopted when it fits the plan and refused with the reason when it does not. --installer is
the account the operator will type in that component's installer (sync:CONTOSO\MIMSyncGMSA$):
preflight refuses one without its '$' or naming another account, before the key-set export.
--root-key-rule is the reading of the 10-hour rule the DCs apply (default interval-start). --mode
script switches the MIM Service side's services with the document's password-update script instead
of the MSI's Change run (the sync service, and a MIM Service with a mailbox, still use change mode). These
flags are read by plan and apply; resume and rollback follow the journal's plan.

--world FILE is a scenario file: its world block and the steps before its first migrate
directive build the world (a mim block installs MIM), and that directive's gmsa=, installer=,
sync-group=, service-group=, root-key-rule= and mode= are taken as the flags of the same names (a
flag given wins). Without it, the built-in MIM world
(hosts MIMSYNC, MIMSVC, MIMPAM, MIMSSPR; --root-key says whether a usable root key exists).
`

// exitCrashed is the status of a run stopped by --crash-after.
const exitCrashed = 3

func statePath(journal string) string { return journal + ".world.json" }

func runMigrate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, migrateUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	verb := args[0]
	fs := flag.NewFlagSet("gmsasim migrate "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	world := fs.String("world", "", "scenario file whose world section builds the MIM world")
	journal := fs.String("journal", "", "the journal file")
	crash := fs.String("crash-after", "", "apply/resume: stop right after this step (a simulated crash)")
	seed := fs.Uint64("seed", 1, "seed of the built-in MIM world")
	rootKey := fs.String("root-key", string(mim.RootKeyEligible), "built-in world: eligible, fresh or none")
	asJSON := fs.Bool("json", false, "plan: print the plan as JSON")
	var ov migrate.Overrides
	fs.Func("gmsa", "COMPONENT:NAME[,...]: the gMSA of a component (repeatable)", func(v string) error { ov.GMSA = append(ov.GMSA, v); return nil })
	fs.Func("installer", "COMPONENT:ACCOUNT[,...]: the account typed in a component's installer (repeatable)", func(v string) error {
		ov.Installer = append(ov.Installer, v)
		return nil
	})
	fs.StringVar(&ov.SyncServersGroup, "sync-group", "", "the sync servers' group (default "+migrate.DefaultSyncServersGroup+")")
	fs.StringVar(&ov.ServiceServersGroup, "service-group", "", "the MIM Service side's group (default "+migrate.DefaultServiceServersGroup+")")
	fs.StringVar(&ov.RootKeyRule, "root-key-rule", "", "the DCs' reading of the 10-hour rule: interval-start (default) or one-interval-ago")
	fs.StringVar(&ov.Mode, "mode", "", "change-mode (default: the MIM Service MSI's Change run) or script (the document's password-update script)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "gmsasim migrate %s: unexpected argument %q\n\n%s", verb, fs.Arg(0), migrateUsage)
		return 2
	}
	if err := ov.Apply(&migrate.Config{}); err != nil {
		fmt.Fprintf(stderr, "gmsasim migrate %s: %v\n", verb, err)
		return 2
	}
	switch verb {
	case "plan", "apply", "resume", "rollback":
	default:
		fmt.Fprintf(stderr, "gmsasim migrate: unknown subcommand %q\n\n%s", verb, migrateUsage)
		return 2
	}
	if *journal == "" && verb != "plan" {
		fmt.Fprintf(stderr, "gmsasim migrate %s: --journal FILE is required\n", verb)
		return 2
	}
	if verb != "plan" {
		// The journal's lock is held for the whole command, before the world is loaded and until
		// it is saved for the last time: the saved world is written with the journal, and a
		// second writer must neither write it nor run on a copy of it. The engine's run uses
		// this lock (migrate.LockJournal).
		lock, err := migrate.LockJournal(*journal, "gmsasim migrate "+verb)
		if err != nil {
			fmt.Fprintf(stderr, "gmsasim migrate %s: %v\n", verb, err)
			return 1
		}
		defer lock.Release()
	}
	if verb == "apply" {
		// Refused here as well as by the engine, before a new world is built: after the plan, the
		// new world would be saved over the one the existing journal belongs to.
		if _, err := os.Stat(*journal); err == nil {
			fmt.Fprintf(stderr, "gmsasim migrate apply: journal %s exists: resume or roll it back, or name a new journal file\n", *journal)
			return 1
		}
	}
	var w *sim.World
	var m *mim.Deployment
	var err error
	switch {
	case verb == "resume" || verb == "rollback":
		var b []byte
		b, err = os.ReadFile(statePath(*journal))
		if err == nil {
			w, m, err = mim.Load(b, sim.Config{})
		}
		if err != nil {
			fmt.Fprintf(stderr, "gmsasim migrate %s: world file %s (saved next to the journal): %v\n", verb, statePath(*journal), err)
			return 1
		}
	case *world != "":
		// The file's first migrate line gives the operator's names and choices; flags override.
		var fileOv migrate.Overrides
		w, m, fileOv, err = scenarios.BuildMIMWorldOverrides(*world)
		ov = fileOv.Under(ov)
	default:
		w, m, err = mim.NewDefaultWorld(mim.DefaultOptions{Seed: *seed, RootKey: mim.RootKeyState(*rootKey)})
		if err == nil && ov.RootKeyRule != "" {
			// The built-in world's DCs apply the reading the engine is told of.
			var rule fakekds.CreationRule
			if rule, err = fakekds.ParseCreationRule(ov.RootKeyRule); err == nil {
				err = w.SetKDSPolicy(fakekds.Policy{CreationRule: rule})
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim migrate %s: building the world: %v\n", verb, err)
		return 1
	}
	env, err := mimagent.Serve(w, m)
	if err != nil {
		fmt.Fprintf(stderr, "gmsasim migrate %s: %v\n", verb, err)
		return 1
	}
	defer env.Close()
	if err := ov.Apply(&env.Config); err != nil {
		fmt.Fprintf(stderr, "gmsasim migrate %s: %v\n", verb, err)
		return 2
	}
	ctx := context.Background()
	if verb == "plan" {
		est, rep, p, err := env.Plan(ctx)
		if est != nil {
			fmt.Fprintln(stdout, est.Text())
		}
		if rep != nil {
			fmt.Fprintln(stdout, rep.Text())
		}
		if err != nil {
			fmt.Fprintf(stderr, "gmsasim migrate plan: %v\n", err)
			return 1
		}
		if *asJSON {
			fmt.Fprintln(stdout, string(p.JSON()))
		} else {
			fmt.Fprintln(stdout, p.Text())
		}
		if !rep.OK() {
			return 1
		}
		return 0
	}
	save := func() error { return saveWorld(m, statePath(*journal)) }
	o := mimagent.RunOptions{Journal: *journal, CrashAfter: *crash, Save: save, Progress: stdout}
	var res *migrate.Result
	switch verb {
	case "apply":
		var p *migrate.Plan
		p, res, err = env.Apply(ctx, o)
		if p != nil {
			fmt.Fprintln(stdout, p.Text())
		}
	case "resume":
		res, err = env.Resume(ctx, o)
	case "rollback":
		res, err = env.Rollback(ctx, o)
	}
	if res != nil {
		fmt.Fprintf(stdout, "ran %d step(s), skipped %d already done\n", len(res.Ran), len(res.Skipped))
		for _, x := range res.Warnings {
			fmt.Fprintf(stdout, "warning: %s\n", x)
		}
	}
	fmt.Fprintf(stdout, "hosts:\n%s\n", mimagent.HostState(m))
	switch {
	case errors.Is(err, migrate.ErrInterrupted):
		fmt.Fprintf(stderr, "gmsasim migrate %s: crashed after step %s (simulated); the world is saved in %s: run gmsasim migrate resume --journal %s\n",
			verb, *crash, statePath(*journal), *journal)
		return exitCrashed
	case err != nil:
		fmt.Fprintf(stderr, "gmsasim migrate %s: %v\n", verb, err)
		return 1
	}
	return 0
}

// saveWorld writes the world's state atomically: a temporary file in the same directory, then a
// rename over the old one.
func saveWorld(m *mim.Deployment, path string) error {
	b, err := mim.Save(m)
	if err != nil {
		return err
	}
	return safefile.WriteFile(path, b, 0o600)
}
