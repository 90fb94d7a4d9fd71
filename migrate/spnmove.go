package migrate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/ad"
)

// StepMoveSPN moves the service principal names and delegation settings of one old service
// account to the gMSAs that replace it. AD (2012 R2 and later) refuses an SPN that already exists
// anywhere in the forest (000021C7), so the values are removed from the old account first and
// then added to the gMSAs. What was on the old account is journaled (PhaseObserved) before the
// removal: a resume after a crash between the two adds it to the gMSAs, and rollback puts it
// back on the old account.
const StepMoveSPN StepKind = "move-spns"

// SPNTarget is one gMSA a move step gives SPNs and delegation to.
type SPNTarget struct {
	Component            Component `json:"component"`
	Account              string    `json:"account"`        // gMSA sAMAccountName, with '$'
	SPNs                 []string  `json:"spns,omitempty"` // planned: Config.Accounts, FIMService/<host>, PCNSCLNT/<host>
	DelegateTo           []string  `json:"delegateTo,omitempty"`
	TrustedForDelegation bool      `json:"trustedForDelegation,omitempty"`
}

// Keys of a move step's observed record: "spn:<SPN>", "delegate:<SPN>" and "trusted", each with
// the gMSA (sAMAccountName with '$') that receives it.
const (
	moveSPN      = "spn:"
	moveDelegate = "delegate:"
	moveTrusted  = "trusted"
)

// samOf is the sAMAccountName of DOMAIN\name, name@domain or name.
func samOf(account string) string {
	if i := strings.LastIndex(account, `\`); i >= 0 {
		return account[i+1:]
	}
	if i := strings.LastIndex(account, "@"); i >= 0 {
		return account[:i]
	}
	return account
}

// spnTarget chooses the gMSA that receives an SPN of an old account several components shared:
// one a target plans explicitly; else by service class (FIMService: the MIM Service; PCNSCLNT:
// sync; HTTP: the PAM REST API, or the SSPR portal whose host name says reset or registration);
// else the first target.
func spnTarget(spn string, ts []SPNTarget) int {
	for i, t := range ts {
		if hasString(t.SPNs, spn) {
			return i
		}
	}
	class, host, _ := strings.Cut(strings.ToLower(spn), "/")
	find := func(c Component) int {
		for i, t := range ts {
			if t.Component == c {
				return i
			}
		}
		return -1
	}
	var prefer []Component
	switch class {
	case "fimservice":
		prefer = []Component{CompService}
	case "pcnsclnt":
		prefer = []Component{CompSync}
	case "http", "https":
		if strings.Contains(host, "reset") {
			prefer = append(prefer, CompSSPRReset)
		}
		if strings.Contains(host, "regist") {
			prefer = append(prefer, CompSSPRRegistration)
		}
		prefer = append(prefer, CompPAMREST, CompSSPRRegistration, CompSSPRReset, CompService)
	}
	for _, c := range prefer {
		if i := find(c); i >= 0 {
			return i
		}
	}
	return 0
}

// delegationTarget is the gMSA that receives an old account's delegation: the MIM Service's, else
// the PAM REST API's, else the first.
func delegationTarget(ts []SPNTarget) int {
	for _, c := range []Component{CompService, CompPAMREST} {
		for i, t := range ts {
			if t.Component == c {
				return i
			}
		}
	}
	return 0
}

// planMoves is what moves off old (nil: no such account, nothing moves): every SPN, every
// msDS-AllowedToDelegateTo value and TRUSTED_FOR_DELEGATION, each mapped to its gMSA.
func planMoves(old *object, ts []SPNTarget) map[string]string {
	m := map[string]string{}
	if old == nil || len(ts) == 0 {
		return m
	}
	for _, t := range ts {
		if strings.EqualFold(old.SAM, t.Account) {
			return m // the "old" account is already a target gMSA: nothing to move
		}
	}
	for _, spn := range old.SPNs {
		m[moveSPN+spn] = ts[spnTarget(spn, ts)].Account
	}
	d := ts[delegationTarget(ts)].Account
	for _, v := range old.DelegateTo {
		m[moveDelegate+v] = d
	}
	if old.UAC&UACTrustedForDelegation != 0 {
		m[moveTrusted] = d
	}
	return m
}

// movesText renders moves one per line: "SPN X: old -> gMSA".
func movesText(old string, m map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		switch {
		case strings.HasPrefix(k, moveSPN):
			out = append(out, fmt.Sprintf("SPN %s: %s -> %s", strings.TrimPrefix(k, moveSPN), old, m[k]))
		case strings.HasPrefix(k, moveDelegate):
			out = append(out, fmt.Sprintf("constrained delegation to %s: %s -> %s", strings.TrimPrefix(k, moveDelegate), old, m[k]))
		case k == moveTrusted:
			out = append(out, fmt.Sprintf("trusted for delegation: %s -> %s", old, m[k]))
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// wantOn is what gMSA acct must hold after the move: its planned values and the moved ones.
func wantOn(acct string, t *SPNTarget, m map[string]string) (spns, deleg []string, trusted bool) {
	if t != nil {
		spns = append(spns, t.SPNs...)
		deleg = append(deleg, t.DelegateTo...)
		trusted = t.TrustedForDelegation
	}
	for _, k := range sortedKeys(m) {
		if !strings.EqualFold(m[k], acct) {
			continue
		}
		switch {
		case strings.HasPrefix(k, moveSPN):
			spns = appendUnique(spns, strings.TrimPrefix(k, moveSPN))
		case strings.HasPrefix(k, moveDelegate):
			deleg = appendUnique(deleg, strings.TrimPrefix(k, moveDelegate))
		case k == moveTrusted:
			trusted = true
		}
	}
	return spns, deleg, trusted
}

// moveSPNs runs a move step: journal what the old account holds (once), strip it, then add it and
// the planned values to the gMSAs. Each part looks at the current state first.
func (r *runner) moveSPNs(s Step) (map[string]string, error) {
	d, err := r.dir()
	if err != nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Err: err, Fix: "check the DC and the admin's credentials and resume"}
	}
	old, err := d.findSAM(samOf(s.Object))
	if err != nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Err: err, Fix: dirFix(StepMoveSPN, err)}
	}
	var moves map[string]string
	if obs := r.j.first(s.ID, PhaseObserved); obs != nil {
		moves = obs.Data
	} else {
		moves = planMoves(old, s.Targets)
		if err := r.j.append(Record{Step: s.ID, Phase: PhaseObserved, At: r.stamp(), Data: moves}); err != nil {
			return nil, err
		}
	}
	if old != nil && len(moves) > 0 {
		if err := stripOld(d, old, moves); err != nil {
			return nil, &StepError{Step: s.ID, Object: old.DN, Expected: "the SPNs and delegation removed from the old account", Err: err, Fix: dirFix(StepMoveSPN, err)}
		}
	}
	for i := range s.Targets {
		t := &s.Targets[i]
		spns, deleg, trusted := wantOn(t.Account, t, moves)
		if err := grant(d, t.Account, spns, deleg, trusted); err != nil {
			return nil, &StepError{Step: s.ID, Object: t.Account, Expected: "SPNs " + strings.Join(spns, " ") + " on " + t.Account, Err: err, Fix: dirFix(StepMoveSPN, err)}
		}
	}
	out := map[string]string{"moved": strconv.Itoa(len(moves))}
	if len(moves) == 0 {
		out["note"] = "nothing on " + s.Object + " to move"
	}
	return out, nil
}

// stripOld removes from o the moved values it still holds, in one modify.
func stripOld(d *dirConn, o *object, moves map[string]string) error {
	var spns, deleg []string
	for _, k := range sortedKeys(moves) {
		if v, ok := strings.CutPrefix(k, moveSPN); ok && hasString(o.SPNs, v) {
			spns = append(spns, v)
		}
		if v, ok := strings.CutPrefix(k, moveDelegate); ok && hasString(o.DelegateTo, v) {
			deleg = append(deleg, v)
		}
	}
	_, trusted := moves[moveTrusted]
	return d.modify(o.DN, func(m *ldap.ModifyRequest) {
		if len(spns) > 0 {
			m.Delete(ad.AttrServicePrincipalName, spns)
		}
		if len(deleg) > 0 {
			m.Delete(ad.AttrAllowedToDelegateTo, deleg)
		}
		if trusted && o.UAC&UACTrustedForDelegation != 0 {
			m.Replace(ad.AttrUserAccountControl, []string{strconv.FormatInt(o.UAC&^UACTrustedForDelegation, 10)})
		}
	})
}

// grant adds to account the values it lacks.
func grant(d *dirConn, account string, spns, deleg []string, trusted bool) error {
	o, err := d.findSAM(account)
	if err != nil {
		return err
	}
	if o == nil {
		return fmt.Errorf("%w: %s not found", ErrDirectory, account)
	}
	return d.modify(o.DN, func(m *ldap.ModifyRequest) {
		if add := missingOf(o.SPNs, spns); len(add) > 0 {
			m.Add(ad.AttrServicePrincipalName, add)
		}
		if add := missingOf(o.DelegateTo, deleg); len(add) > 0 {
			m.Add(ad.AttrAllowedToDelegateTo, add)
		}
		if trusted && o.UAC&UACTrustedForDelegation == 0 {
			m.Replace(ad.AttrUserAccountControl, []string{strconv.FormatInt(o.UAC|UACTrustedForDelegation, 10)})
		}
	})
}

// revoke removes from account the given values it holds.
func revoke(d *dirConn, account string, spns, deleg []string, trusted bool) error {
	o, err := d.findSAM(account)
	if err != nil || o == nil {
		return err
	}
	return d.modify(o.DN, func(m *ldap.ModifyRequest) {
		var rs, rd []string
		for _, v := range spns {
			if hasString(o.SPNs, v) {
				rs = append(rs, v)
			}
		}
		for _, v := range deleg {
			if hasString(o.DelegateTo, v) {
				rd = append(rd, v)
			}
		}
		if len(rs) > 0 {
			m.Delete(ad.AttrServicePrincipalName, rs)
		}
		if len(rd) > 0 {
			m.Delete(ad.AttrAllowedToDelegateTo, rd)
		}
		if trusted && o.UAC&UACTrustedForDelegation != 0 {
			m.Replace(ad.AttrUserAccountControl, []string{strconv.FormatInt(o.UAC&^UACTrustedForDelegation, 10)})
		}
	})
}

// undoMoveSPNs puts the journaled values back: off the gMSAs first, then onto the old account.
func (r *runner) undoMoveSPNs(s Step, moves map[string]string) (map[string]string, error) {
	d, err := r.dir()
	if err != nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Err: err, Fix: "check the DC and run rollback again"}
	}
	accts := map[string]bool{}
	for _, a := range moves {
		accts[a] = true
	}
	var all []string
	for a := range accts {
		all = append(all, a)
	}
	sort.Strings(all)
	for _, a := range all {
		spns, deleg, trusted := wantOn(a, nil, moves)
		if err := revoke(d, a, spns, deleg, trusted); err != nil {
			return nil, &StepError{Step: s.ID, Object: a, Expected: "the moved SPNs removed from the gMSA", Err: err, Fix: dirFix(StepMoveSPN, err)}
		}
	}
	var spns, deleg []string
	_, trusted := moves[moveTrusted]
	for _, k := range sortedKeys(moves) {
		if v, ok := strings.CutPrefix(k, moveSPN); ok {
			spns = append(spns, v)
		}
		if v, ok := strings.CutPrefix(k, moveDelegate); ok {
			deleg = append(deleg, v)
		}
	}
	if err := grant(d, samOf(s.Object), spns, deleg, trusted); err != nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Expected: "the SPNs and delegation back on the old account", Err: err, Fix: dirFix(StepMoveSPN, err)}
	}
	return map[string]string{"restored": strconv.Itoa(len(moves))}, nil
}

// checkSPNs lists every SPN and delegation move (one check each) and fails on an SPN a gMSA
// would get that an account other than its old account and the gMSA itself already holds: AD
// would refuse the add half-way through the migration.
func (e *Engine) checkSPNs(d *dirConn, est *Estate, k checker) error {
	p, err := e.MakePlan(est)
	if err != nil {
		return nil // no plan, no moves; the plan's own error is reported where it is made
	}
	for _, s := range p.Steps {
		if s.Kind != StepMoveSPN {
			continue
		}
		old, err := d.findSAM(samOf(s.Object))
		if err != nil {
			return &StepError{Step: "preflight", Object: s.Object, Err: err}
		}
		moves := planMoves(old, s.Targets)
		for _, line := range movesText(s.Object, moves) {
			k.add("spn-move", "SPN and delegation move", "", false, Info, line, "")
		}
		for i := range s.Targets {
			t := &s.Targets[i]
			spns, _, _ := wantOn(t.Account, t, moves)
			for _, spn := range spns {
				holders, err := d.spnHolders(spn)
				if err != nil {
					return &StepError{Step: "preflight", Object: spn, Err: err}
				}
				for _, h := range holders {
					if (old != nil && strings.EqualFold(h.DN, old.DN)) || strings.EqualFold(h.SAM, t.Account) {
						continue
					}
					k.add("spn-conflict", "SPN free for its gMSA", "", false, Blocker,
						fmt.Sprintf("SPN %s (for %s) is held by %s", spn, t.Account, h.DN),
						fmt.Sprintf("remove it there first (setspn -D %s %s), then run preflight again", spn, h.SAM))
				}
			}
		}
	}
	return nil
}
