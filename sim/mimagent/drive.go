package mimagent

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"

	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/mim"
)

// Driving the engine against a served world, as `gmsasim migrate` and the scenario directives do.

// RunOptions are one apply, resume or rollback.
type RunOptions struct {
	Journal string
	// CrashAfter, when set, stops the run right after that step's effect is in place and before
	// its result is journaled (migrate.AfterStep), as a killed process would.
	CrashAfter string
	// Save, when set, is called at every crash point (before and after each step) and at the
	// end, so that the world's state on disk is never older than what the journal records.
	Save func() error
	// AtCrashPoint, when set, is called at every crash point (after Save) with the step and the
	// point, before the crash is decided: the world and the journal on disk are exactly what a
	// crash there would leave (crash-each snapshots them).
	AtCrashPoint func(step string, at migrate.CrashPoint) error
	// Progress receives the engine's step lines.
	Progress io.Writer
}

func (e *Env) engine() (*migrate.Engine, error) { return migrate.New(e.Config) }

// Plan takes the inventory, runs the preflight and makes the plan.
func (e *Env) Plan(ctx context.Context) (*migrate.Estate, *migrate.Report, *migrate.Plan, error) {
	eng, err := e.engine()
	if err != nil {
		return nil, nil, nil, err
	}
	est, err := eng.Inventory(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	rep, err := eng.Preflight(ctx, est)
	if err != nil {
		return est, nil, nil, err
	}
	p, err := eng.MakePlan(est)
	return est, rep, p, err
}

func (e *Env) options(o RunOptions, saveErr *error) migrate.Options {
	return migrate.Options{Journal: o.Journal, Now: e.World.Now, Progress: o.Progress,
		Interrupt: func(step string, at migrate.CrashPoint) bool {
			if o.Save != nil && *saveErr == nil {
				*saveErr = o.Save()
			}
			if o.AtCrashPoint != nil && *saveErr == nil {
				*saveErr = o.AtCrashPoint(step, at)
			}
			return o.CrashAfter != "" && at == migrate.AfterStep && strings.EqualFold(step, o.CrashAfter)
		}}
}

func (e *Env) finish(res *migrate.Result, err error, o RunOptions, saveErr error) (*migrate.Result, error) {
	if o.Save != nil && saveErr == nil {
		saveErr = o.Save()
	}
	if err == nil && saveErr != nil {
		err = fmt.Errorf("saving the world's state: %w", saveErr)
	}
	return res, err
}

// Apply plans and applies with a new journal.
func (e *Env) Apply(ctx context.Context, o RunOptions) (*migrate.Plan, *migrate.Result, error) {
	_, rep, p, err := e.Plan(ctx)
	if err != nil {
		return p, nil, err
	}
	eng, err := e.engine()
	if err != nil {
		return p, nil, err
	}
	var saveErr error
	res, err := eng.Apply(ctx, p, rep, e.options(o, &saveErr))
	res, err = e.finish(res, err, o, saveErr)
	return p, res, err
}

// Resume continues from the journal.
func (e *Env) Resume(ctx context.Context, o RunOptions) (*migrate.Result, error) {
	eng, err := e.engine()
	if err != nil {
		return nil, err
	}
	var saveErr error
	res, err := eng.Resume(ctx, e.options(o, &saveErr))
	return e.finish(res, err, o, saveErr)
}

// Rollback returns every converted service to its previous account.
func (e *Env) Rollback(ctx context.Context, o RunOptions) (*migrate.Result, error) {
	eng, err := e.engine()
	if err != nil {
		return nil, err
	}
	var saveErr error
	res, err := eng.Rollback(ctx, e.options(o, &saveErr))
	return e.finish(res, err, o, saveErr)
}

// HostState is the MIM hosts as the simulator sees them, one line per component, then the key
// set exports and the installer warnings: the end state the scenarios and `gmsasim migrate`
// print and compare.
func HostState(m *mim.Deployment) string {
	var b strings.Builder
	for _, mh := range m.Hosts() {
		for _, c := range mh.Components() {
			acct, _ := mh.Account(c)
			st, _ := mh.State(c)
			note := ""
			if !mim.Supported(c) {
				note = " (unsupported, left alone)"
			}
			fmt.Fprintf(&b, "%s %s: %s as %s%s\n", mh.Name(), c, st, acct, note)
		}
		if mh.Has(mim.CompSync) {
			f, ok := mh.KeySet(mim.DefaultKeySetPath)
			switch {
			case !ok:
				fmt.Fprintf(&b, "%s key set export: none; keys loaded: %t\n", mh.Name(), mh.KeysLoaded())
			default:
				fmt.Fprintf(&b, "%s key set export: %s matches the database: %t, written %d time(s); keys loaded: %t\n",
					mh.Name(), f.Path, f.KeyID == mh.DatabaseKeyID(), f.Writes, mh.KeysLoaded())
			}
		}
		if mh.Has(mim.CompService) {
			poll, _ := mh.Registry(mim.RegFIMServiceKey, "PollExchangeEnabled")
			online, _ := mh.Registry(mim.RegMIMServiceKey, "ExchangeOnline")
			onprem, _ := mh.Registry(mim.RegMIMServiceKey, "ExchangeOnPremise")
			fmt.Fprintf(&b, "%s exchange: %s PollExchangeEnabled=%s ExchangeOnline=%s ExchangeOnPremise=%s\n",
				mh.Name(), mh.Exchange(), poll, emptyOr(online), emptyOr(onprem))
		}
		if n := len(mh.Warnings()); n > 0 {
			fmt.Fprintf(&b, "%s installer warnings: %d x %q\n", mh.Name(), n, mim.LogonUserWarning)
		}
		if mh.KDSSvcTrigger() {
			fmt.Fprintf(&b, "%s kdssvc trigger: start/networkon\n", mh.Name())
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func emptyOr(s string) string {
	if s == "" {
		return "(empty)"
	}
	return "(set)"
}

// DirectoryState is what the conversion writes to the directory, as names rather than GUIDs or
// USNs (which differ between a run and a resumed run of a reloaded world): every gMSA with its
// DNS host name, SPNs, delegation and allowed principals, and the members of every group whose
// name starts with MIM (MIMSync_Servers, MIMService_Servers, the sync groups), sorted.
func DirectoryState(w *sim.World) (string, error) {
	var lines []string
	dc := w.DCs()[0].Name()
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: d.DomainDN(), Scope: fakead.ScopeSub,
			Filter: fakead.FilterOr{
				fakead.FilterEquality{Attr: "objectClass", Value: []byte("msDS-GroupManagedServiceAccount")},
				fakead.FilterEquality{Attr: "objectClass", Value: []byte("group")},
				// service users that hold SPNs or delegation (what the migration moves)
				fakead.FilterAnd{fakead.FilterEquality{Attr: "objectClass", Value: []byte("user")},
					fakead.FilterNot{F: fakead.FilterEquality{Attr: "objectClass", Value: []byte("computer")}},
					fakead.FilterNot{F: fakead.FilterEquality{Attr: "sAMAccountName", Value: []byte("krbtgt")}},
					fakead.FilterOr{fakead.FilterPresent{Attr: "servicePrincipalName"}, fakead.FilterPresent{Attr: "msDS-AllowedToDelegateTo"}}}},
			Attributes: []string{"sAMAccountName", "objectClass", "dNSHostName", "servicePrincipalName",
				"msDS-AllowedToDelegateTo", "userAccountControl", "member", "msDS-GroupMSAMembership"}, SDFlags: -1})
		if err != nil {
			return err
		}
		name := func(dn string) string {
			first, _, _ := strings.Cut(dn, ",")
			return strings.TrimPrefix(first, "CN=")
		}
		for _, e := range res {
			vals := map[string][]string{}
			for _, a := range e.Attributes {
				for _, v := range a.Values {
					vals[strings.ToLower(a.Name)] = append(vals[strings.ToLower(a.Name)], string(v))
				}
			}
			var members []string
			for _, m := range vals["member"] {
				members = append(members, name(m))
			}
			sort.Strings(members)
			gmsa := false
			for _, c := range vals["objectclass"] {
				gmsa = gmsa || strings.EqualFold(c, "msDS-GroupManagedServiceAccount")
			}
			sam := strings.Join(vals["samaccountname"], "")
			user := false
			for _, c := range vals["objectclass"] {
				user = user || strings.EqualFold(c, "user")
			}
			if user && !gmsa {
				spns := append([]string(nil), vals["serviceprincipalname"]...)
				sort.Strings(spns)
				del := append([]string(nil), vals["msds-allowedtodelegateto"]...)
				sort.Strings(del)
				lines = append(lines, fmt.Sprintf("user %s uac=%s spns=%s delegate-to=%s", sam,
					strings.Join(vals["useraccountcontrol"], ""), strings.Join(spns, ","), strings.Join(del, ",")))
				continue
			}
			if !gmsa {
				if len(members) > 0 && strings.HasPrefix(strings.ToUpper(sam), "MIM") {
					lines = append(lines, fmt.Sprintf("group %s members=%s", sam, strings.Join(members, ",")))
				}
				continue
			}
			spns := append([]string(nil), vals["serviceprincipalname"]...)
			sort.Strings(spns)
			del := append([]string(nil), vals["msds-allowedtodelegateto"]...)
			sort.Strings(del)
			var principals []string
			for _, sd := range vals["msds-groupmsamembership"] {
				parsed, err := ad.ParseSecurityDescriptor([]byte(sd))
				if err != nil {
					return err
				}
				for _, s := range parsed.AllowedSIDs() {
					principals = append(principals, sidName(now, d, s.String()))
				}
			}
			sort.Strings(principals)
			lines = append(lines, fmt.Sprintf("gmsa %s dns=%s uac=%s spns=%s delegate-to=%s principals=%s", sam,
				strings.Join(vals["dnshostname"], ""), strings.Join(vals["useraccountcontrol"], ""), strings.Join(spns, ","),
				strings.Join(del, ","), strings.Join(principals, ",")))
		}
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n"), err
}

// sidName is the sAMAccountName of the object with that SID (the SID itself when none).
func sidName(now time.Time, d *fakead.Directory, sid string) string {
	x, err := ad.ParseSID(sid)
	if err != nil {
		return sid
	}
	res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: d.DomainDN(), Scope: fakead.ScopeSub,
		Filter: fakead.FilterEquality{Attr: "objectSid", Value: x.Bytes()}, Attributes: []string{"sAMAccountName"}, SDFlags: -1})
	if err != nil || len(res) != 1 {
		return sid
	}
	for _, a := range res[0].Attributes {
		if strings.EqualFold(a.Name, "sAMAccountName") && len(a.Values) > 0 {
			return string(a.Values[0])
		}
	}
	return sid
}
