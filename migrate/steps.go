package migrate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/ad"
)

// exec runs one step's effect. Every branch first looks at the current state and does only what
// is missing, so a step repeated after a crash changes nothing that is already right.
func (r *runner) exec(ctx context.Context, s Step) (map[string]string, error) {
	switch s.Kind {
	case StepGroup:
		return r.ensureGroup(s)
	case StepGMSA:
		return r.ensureGMSA(s)
	case StepGroupMember:
		return r.ensureMember(s)
	case StepMoveSPN:
		return r.moveSPNs(s)
	}
	h, err := r.e.host(s.Host)
	if err != nil {
		return nil, &StepError{Step: s.ID, Host: s.Host, Err: err, Fix: "add the host's HostAgent and run resume"}
	}
	fail := func(err error, expected, fix string) error {
		return &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: expected, Err: err, Fix: fix}
	}
	switch s.Kind {
	case StepPurgeTickets:
		if err := h.PurgeMachineTickets(ctx); err != nil {
			return nil, fail(err, "the machine's tickets purged", "run klist -li 0x3e7 purge on the host (or reboot it) and resume")
		}
		return nil, nil
	case StepKDSTrigger:
		on, err := h.KDSSvcTrigger(ctx)
		if err != nil {
			return nil, fail(err, "kdssvc trigger state", "run sc qtriggerinfo kdssvc on the host")
		}
		if on {
			return map[string]string{"note": "trigger already set"}, nil
		}
		if err := h.SetKDSSvcTrigger(ctx); err != nil {
			return nil, fail(err, "kdssvc start/networkon trigger set", "run sc triggerinfo kdssvc start/networkon and resume")
		}
		return nil, nil
	case StepInstallGMSA, StepVerifyGMSA:
		if s.Kind == StepInstallGMSA {
			if err := h.InstallServiceAccount(ctx, s.Object); err != nil {
				return nil, fail(err, "Install-ADServiceAccount "+s.Object+" to succeed", r.gmsaFix(s))
			}
		}
		ok, err := h.TestServiceAccount(ctx, s.Object)
		if err != nil || !ok {
			return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "Test-ADServiceAccount True",
				Got: "False", Err: err, Fix: r.gmsaFix(s)}
		}
		return map[string]string{"test": "True"}, nil
	case StepExportKeySet:
		return r.exportKeySet(ctx, h, s)
	case StepVerifyKeySet:
		info, err := h.VerifyKeySet(ctx, s.Path)
		if err != nil {
			return nil, fail(errors.Join(ErrNoVerifiedExport, err), "a key-set export that matches the sync database", "export the key set again to a NEW file (the engine never overwrites one), set Config.KeySetPath to it, and start a new journal")
		}
		return keySetData(info), nil
	case StepStop:
		if err := h.StopService(ctx, s.Object); err != nil {
			return nil, fail(err, s.Object+" stopped", "stop the service by hand and resume")
		}
		return r.expectState(ctx, h, s, StateStopped, "")
	case StepStart:
		if err := h.StartService(ctx, s.Object); err != nil {
			return nil, fail(err, s.Object+" running", r.startFix(s))
		}
		return r.expectState(ctx, h, s, StateRunning, "")
	case StepChangeMode:
		return r.changeMode(ctx, h, s)
	case StepSetLogon:
		return r.setLogon(ctx, h, s, s.Account, "")
	case StepRestoreKeySet:
		if err := r.guardExport(ctx, h, s); err != nil {
			return nil, err
		}
		if err := h.RestoreKeySet(ctx, s.Path); err != nil {
			return nil, fail(err, "the key set restored from "+s.Path, "restore it with the Synchronization Service Key Management tool from "+s.Path+" and resume")
		}
		return nil, nil
	case StepRegistry:
		return r.writeRegistry(ctx, h, s)
	case StepExchangeCheck:
		return r.exchangeCheck(ctx, h, s)
	case StepVerifyService:
		return r.expectState(ctx, h, s, StateRunning, s.Account)
	case StepVerifyKerb:
		acct, err := h.VerifyKerberos(ctx, s.Object)
		if err != nil || !sameAccount(acct, s.Account) {
			return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "the ticket decrypted with " + s.Account + "'s key",
				Got: acct, Err: errors.Join(ErrVerify, err), Fix: "check that " + s.Object + " is registered on " + s.Account + " only (setspn -Q " + s.Object + ") and that the service runs under it"}
		}
		return map[string]string{"account": acct}, nil
	}
	return nil, &StepError{Step: s.ID, Host: s.Host, Err: fmt.Errorf("%w: unknown step kind %q", ErrJournal, s.Kind), Fix: "the journal was written by a newer engine"}
}

func (r *runner) gmsaFix(s Step) string {
	return "check that " + s.Host + "'s computer account is in the gMSA's group (then klist -li 0x3e7 purge), that a KDS root key is eligible on the DC the host uses, and resume"
}

func (r *runner) startFix(s Step) string {
	if s.Component == CompSync {
		return "the sync service needs its key set: restore it from " + r.j.Plan.KeySetPath + " and check Test-ADServiceAccount; then resume"
	}
	return "check the System event log for the logon failure and Test-ADServiceAccount; then resume"
}

func keySetData(info KeySetInfo) map[string]string {
	return map[string]string{"path": info.Path, "sha256": info.SHA256, "keyId": info.KeyID, "size": strconv.FormatInt(info.Size, 10)}
}

// expectState checks a service's state (and account, when account is not "").
func (r *runner) expectState(ctx context.Context, h HostAgent, s Step, want ServiceState, account string) (map[string]string, error) {
	st, err := h.QueryService(ctx, s.Object)
	expected := s.Object + " " + string(want)
	if account != "" {
		expected += " as " + account
	}
	if err != nil || st.State != want || (account != "" && !sameAccount(st.Account, account)) {
		got := fmt.Sprintf("%s as %s", st.State, st.Account)
		fix := r.startFix(s)
		if want == StateStopped {
			fix = "stop the service by hand and resume"
		}
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: expected, Got: got, Err: errors.Join(ErrVerify, err), Fix: fix}
	}
	return map[string]string{"state": string(st.State), "account": st.Account}, nil
}

// exportKeySet exports the key set once. An export already at the path is verified instead,
// never overwritten; one that does not match the database stops the migration.
func (r *runner) exportKeySet(ctx context.Context, h HostAgent, s Step) (map[string]string, error) {
	info, err := h.VerifyKeySet(ctx, s.Path)
	if err == nil {
		d := keySetData(info)
		d["note"] = "export already present, kept"
		return d, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Path, Expected: "no file, or an export of this database's key set",
			Err: err, Fix: "a different file is at " + s.Path + "; the engine never overwrites it: move it away or set Config.KeySetPath to a new file and start a new journal"}
	}
	req := r.e.cfg.SyncAccount
	req.Path = s.Path
	info, err = h.ExportKeySet(ctx, req)
	if errors.Is(err, ErrExists) {
		info, err = h.VerifyKeySet(ctx, s.Path)
	}
	if err != nil {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Path, Expected: "the key set exported as " + req.Domain + `\` + req.Account,
			Err: err, Fix: "check Config.SyncAccount (the CURRENT sync service account's name, password and domain) and resume"}
	}
	return keySetData(info), nil
}

// guardExport refuses to go on unless the journal records a verified export of this host's key
// set and the file still verifies, with the same digest, right now.
func (r *runner) guardExport(ctx context.Context, h HostAgent, s Step) error {
	id := "keyset-verify@" + s.Host
	rec := r.j.Last(id)
	fix := "run resume: the export and its verification come first; if the export is gone, export the key set again to a new file"
	if rec == nil || rec.Phase != PhaseDone || rec.Data["sha256"] == "" {
		return &StepError{Step: s.ID, Host: s.Host, Object: r.j.Plan.KeySetPath, Expected: "a verified key-set export (" + id + " done)",
			Got: "none in the journal", Err: ErrNoVerifiedExport, Fix: fix}
	}
	info, err := h.VerifyKeySet(ctx, rec.Data["path"])
	if err != nil || info.SHA256 != rec.Data["sha256"] {
		return &StepError{Step: s.ID, Host: s.Host, Object: rec.Data["path"], Expected: "the export verified with sha256 " + rec.Data["sha256"],
			Got: info.SHA256, Err: errors.Join(ErrNoVerifiedExport, err), Fix: "the export changed or vanished: do NOT run change mode; restore the file from backup and resume"}
	}
	return nil
}

func (r *runner) changeMode(ctx context.Context, h HostAgent, s Step) (map[string]string, error) {
	if len(s.Pages) > 0 {
		return r.changeModeRun(ctx, h, s, s.Pages, func(pg Page) string { return pg.Account }, nil)
	}
	if s.Component == CompSync {
		if err := r.guardExport(ctx, h, s); err != nil {
			return nil, err
		}
	}
	st, err := h.QueryService(ctx, s.Object)
	if err != nil {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "the service to exist", Err: err, Fix: "check the MIM installation on the host"}
	}
	if sameAccount(st.Account, s.Account) {
		return map[string]string{"note": "already runs as " + s.Account, "from": s.From}, nil
	}
	req := ChangeModeRequest{Component: s.Component, Account: s.Account, Exchange: r.withMailPassword(s.Exchange)}
	res, err := h.ChangeMode(ctx, req)
	if err != nil {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "change mode to accept " + s.Account + " with an empty password",
			Err: err, Fix: "check the installer log on the host; the gMSA name needs its '$' and no password"}
	}
	st, err = h.QueryService(ctx, s.Object)
	if err != nil || !sameAccount(st.Account, s.Account) {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "logon account " + s.Account, Got: st.Account,
			Err: errors.Join(ErrVerify, err), Fix: "run the installer's change mode by hand and resume"}
	}
	for _, w := range res.Warnings {
		r.res.Warnings = append(r.res.Warnings, s.Host+": "+string(s.Component)+": "+w)
	}
	return map[string]string{"from": st.Account, "account": res.Account, "warnings": strings.Join(res.Warnings, " | ")}, nil
}

// changeModeRun is one installer run over pages (the MIM Service MSI's Change), each page's
// service set to account(page) with password(page) (nil: empty passwords, for gMSAs). A run whose
// services all run as their targets already is not repeated.
func (r *runner) changeModeRun(ctx context.Context, h HostAgent, s Step, pages []Page, account func(Page) string, password func(Page) (string, error)) (map[string]string, error) {
	stepErr := func(pg Page, expected, got string, err error, fix string) error {
		return &StepError{Step: s.ID, Host: s.Host, Object: pg.Service, Expected: expected, Got: got, Err: err, Fix: fix}
	}
	done := true
	for _, pg := range pages {
		st, err := h.QueryService(ctx, pg.Service)
		if err != nil {
			return nil, stepErr(pg, "the service to exist", "", err, "check the MIM installation on the host")
		}
		done = done && sameAccount(st.Account, account(pg))
	}
	if done {
		return map[string]string{"note": "every page's service already runs as its account"}, nil
	}
	var req ChangeModeRequest
	for i, pg := range pages {
		pw := ""
		if password != nil {
			var err error
			if pw, err = password(pg); err != nil {
				return nil, stepErr(pg, "the password of "+account(pg), "", err, "give Config.PreviousPasswords["+account(pg)+"] and run again")
			}
		}
		if i == 0 {
			req = ChangeModeRequest{Component: pg.Component, Account: account(pg), Password: pw}
			continue
		}
		req.More = append(req.More, ChangeModePage{Component: pg.Component, Account: account(pg), Password: pw})
	}
	if pages[0].Component == CompService {
		req.Exchange = r.withMailPassword(s.Exchange)
	}
	res, err := h.ChangeMode(ctx, req)
	if err != nil {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "the installer's Change run to accept every page", Err: err,
			Fix: "check the installer log on the host; a gMSA name needs its '$' and no password, a user account its password"}
	}
	data := map[string]string{"warnings": strings.Join(res.Warnings, " | ")}
	for _, pg := range pages {
		st, err := h.QueryService(ctx, pg.Service)
		if err != nil || !sameAccount(st.Account, account(pg)) {
			return nil, stepErr(pg, "logon account "+account(pg), st.Account, errors.Join(ErrVerify, err), "run the installer's change mode by hand and resume")
		}
		data["account:"+string(pg.Component)] = st.Account
	}
	for _, w := range res.Warnings {
		r.res.Warnings = append(r.res.Warnings, s.Host+": "+s.Object+": "+w)
	}
	return data, nil
}

// setLogon is a password-update script step: stop the service, set its logon to account, check
// it. A service that runs as account already is left alone.
func (r *runner) setLogon(ctx context.Context, h HostAgent, s Step, account, password string) (map[string]string, error) {
	fail := func(expected, got string, err error, fix string) error {
		return &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: expected, Got: got, Err: err, Fix: fix}
	}
	st, err := h.QueryService(ctx, s.Object)
	if err != nil {
		return nil, fail("the service to exist", "", err, "check the MIM installation on the host")
	}
	if sameAccount(st.Account, account) {
		return map[string]string{"note": "already runs as " + account}, nil
	}
	if err := h.StopService(ctx, s.Object); err != nil {
		return nil, fail(s.Object+" stopped", "", err, "stop it by hand and resume")
	}
	if err := h.SetServiceAccount(ctx, s.Object, account, password); err != nil {
		return nil, fail("the logon account set to "+account, st.Account, err, "check that "+account+" exists (with its '$' for a gMSA) and is installed on the host, and resume")
	}
	st, err = h.QueryService(ctx, s.Object)
	if err != nil || !sameAccount(st.Account, account) {
		return nil, fail("logon account "+account, st.Account, errors.Join(ErrVerify, err), "set it by hand and resume")
	}
	return map[string]string{"from": s.From, "account": st.Account}, nil
}

// withMailPassword is a copy of a step's Exchange options with the Service Email Account password
// the operator gave (never journaled); nil for none.
func (r *runner) withMailPassword(ex *ExchangeOptions) *ExchangeOptions {
	if ex == nil {
		return nil
	}
	c := *ex
	if o := r.e.cfg.Exchange; o != nil {
		c.MailPassword = o.MailPassword
	}
	return &c
}

func regString(v RegistryValue) string {
	if v.Kind == RegDWord {
		return "dword:" + strconv.FormatUint(uint64(v.DWord), 10)
	}
	return "sz:" + v.String
}

func (r *runner) writeRegistry(ctx context.Context, h HostAgent, s Step) (map[string]string, error) {
	w := s.Registry
	prev := "absent"
	if v, err := h.ReadRegistry(ctx, w.Key, w.Value); err == nil {
		prev = regString(v)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "a readable value", Err: err, Fix: "check the host's registry and resume"}
	}
	// The value seen before the first write is journaled before writing: on a repeat after a
	// crash the value is already the new one, and rollback needs the original.
	if first := r.j.first(s.ID, PhaseObserved); first != nil {
		prev = first.Data["previous"]
	} else if err := r.j.append(Record{Step: s.ID, Phase: PhaseObserved, At: r.stamp(), Data: map[string]string{"previous": prev}}); err != nil {
		return nil, err
	}
	if v, err := h.ReadRegistry(ctx, w.Key, w.Value); err == nil && regString(v) == regString(w.Data) {
		return map[string]string{"previous": prev, "note": "already set"}, nil
	}
	if err := h.WriteRegistry(ctx, w.Key, w.Value, w.Data); err != nil {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "value written", Err: err, Fix: "set it by hand (" + regString(w.Data) + ") and resume"}
	}
	v, err := h.ReadRegistry(ctx, w.Key, w.Value)
	if err != nil || regString(v) != regString(w.Data) {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: regString(w.Data), Got: regString(v), Err: errors.Join(ErrVerify, err), Fix: "set it by hand and resume"}
	}
	return map[string]string{"previous": prev}, nil
}

func (r *runner) exchangeCheck(ctx context.Context, h HostAgent, s Step) (map[string]string, error) {
	read := func(name string) (string, error) {
		v, err := h.ReadRegistry(ctx, RegKeyFIMServiceConfig, name)
		if errors.Is(err, ErrNotFound) {
			return "", nil
		}
		if v.Kind == RegDWord {
			return strconv.FormatUint(uint64(v.DWord), 10), err
		}
		return v.String, err
	}
	on, err1 := read(RegValExchangeOnline)
	onp, err2 := read(RegValExchangeOnPrem)
	if err := errors.Join(err1, err2); err != nil {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "readable Exchange values", Err: err, Fix: "check the host's registry and resume"}
	}
	used, unused := RegValExchangeOnPrem, RegValExchangeOnline
	usedV, unusedV := onp, on
	if s.Exchange.Online {
		used, unused, usedV, unusedV = RegValExchangeOnline, RegValExchangeOnPrem, on, onp
	}
	if usedV == "" || unusedV != "" {
		return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: used + " set and " + unused + " empty",
			Got: fmt.Sprintf("%s=%q %s=%q", used, usedV, unused, unusedV), Err: ErrVerify,
			Fix: "run the MIM Service change mode again with the Exchange option " + used}
	}
	return map[string]string{"used": used}, nil
}

// sameAccount compares logon accounts: DOMAIN\name$, name$@domain and name$ are the same
// account when the names match (case-insensitively) and, where both give one, the domains do.
func sameAccount(a, b string) bool {
	split := func(s string) (dom, name string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if i := strings.LastIndex(s, `\`); i >= 0 {
			return s[:i], s[i+1:]
		}
		if i := strings.LastIndex(s, "@"); i >= 0 {
			return strings.SplitN(s[i+1:], ".", 2)[0], s[:i]
		}
		return "", s
	}
	da, na := split(a)
	db, nb := split(b)
	return na != "" && na == nb && (da == "" || db == "" || da == db)
}

// ensureGroup creates the group with the hosts' computer accounts as members, or adds the
// members it lacks.
func (r *runner) ensureGroup(s Step) (map[string]string, error) {
	d, err := r.dir()
	if err != nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Err: err, Fix: "check the DC and the admin's credentials and resume"}
	}
	var members []string
	for _, h := range s.Members {
		c, err := d.findComputer(h)
		if err != nil || c == nil {
			return nil, &StepError{Step: s.ID, Object: h, Expected: "a computer account with dNSHostName " + h, Err: err, Fix: "join " + h + " to the domain and resume"}
		}
		members = append(members, c.DN)
	}
	g, err := d.findSAM(s.Object)
	if err != nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Err: err, Fix: "resume"}
	}
	if g == nil {
		dn := "CN=" + ldap.EscapeDN(s.Object) + "," + r.e.cfg.groupContainer(d.dse.DefaultNC)
		attrs := map[string][]string{"objectClass": {"top", "group"}, ad.AttrSAMAccountName: {s.Object},
			"groupType": {groupTypeGlobalSecurity}, "description": {"Hosts allowed to retrieve MIM gMSA passwords"}, ad.AttrMember: members}
		order := []string{"objectClass", ad.AttrSAMAccountName, "groupType", "description"}
		if len(members) > 0 {
			order = append(order, ad.AttrMember)
		}
		if err := d.add(dn, attrs, order); err != nil {
			return nil, &StepError{Step: s.ID, Object: dn, Expected: "the group created", Err: err, Fix: dirFix(StepGroup, err)}
		}
		return map[string]string{"dn": dn, "note": "created"}, nil
	}
	var missing []string
	for _, m := range members {
		if !hasString(g.Members, m) {
			missing = append(missing, m)
		}
	}
	if err := d.modify(g.DN, func(m *ldap.ModifyRequest) {
		if len(missing) > 0 {
			m.Add(ad.AttrMember, missing)
		}
	}); err != nil {
		return nil, &StepError{Step: s.ID, Object: g.DN, Expected: "members added", Err: err, Fix: "add " + strings.Join(missing, "; ") + " by hand and resume"}
	}
	return map[string]string{"dn": g.DN, "note": fmt.Sprintf("exists, %d member(s) added", len(missing))}, nil
}

// ensureGMSA creates the gMSA the way New-ADServiceAccount does, or reconciles an existing one.
func (r *runner) ensureGMSA(s Step) (map[string]string, error) {
	d, err := r.dir()
	if err != nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Err: err, Fix: "check the DC and the admin's credentials and resume"}
	}
	var sids []ad.SID
	for _, p := range s.Principals {
		o, err := d.findSAM(p)
		if err != nil || o == nil || o.SID.IsZero() {
			return nil, &StepError{Step: s.ID, Object: p, Expected: "the principal " + p + " with an objectSid", Err: err, Fix: "run resume (the group step comes first)"}
		}
		sids = append(sids, o.SID)
	}
	sd := ad.GMSAMembership(sids...)
	uac := UACWorkstationTrust
	if s.TrustedForDelegation {
		uac |= UACTrustedForDelegation
	}
	name := strings.TrimSuffix(s.Object, "$")
	o, err := d.findSAM(name + "$")
	if err != nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Err: err, Fix: "resume"}
	}
	if o == nil {
		dn := "CN=" + ldap.EscapeDN(name) + "," + r.e.cfg.gmsaContainer(d.dse.DefaultNC)
		attrs := map[string][]string{
			"objectClass": {ad.ClassGroupManagedServiceAccount}, ad.AttrSAMAccountName: {name + "$"}, ad.AttrDNSHostName: {s.DNSHostName},
			ad.AttrManagedPasswordInterval: {strconv.Itoa(DefaultPasswordInterval)}, ad.AttrSupportedEncryptionTypes: {strconv.Itoa(SupportedEncTypesAES)},
			ad.AttrUserAccountControl: {strconv.Itoa(uac)}, ad.AttrGroupMSAMembership: {string(sd)}, ad.AttrServicePrincipalName: s.SPNs, ad.AttrAllowedToDelegateTo: s.DelegateTo,
		}
		order := []string{"objectClass", ad.AttrSAMAccountName, ad.AttrDNSHostName, ad.AttrManagedPasswordInterval,
			ad.AttrSupportedEncryptionTypes, ad.AttrUserAccountControl, ad.AttrGroupMSAMembership}
		if len(s.SPNs) > 0 {
			order = append(order, ad.AttrServicePrincipalName)
		}
		if len(s.DelegateTo) > 0 {
			order = append(order, ad.AttrAllowedToDelegateTo)
		}
		if err := d.add(dn, attrs, order); err != nil {
			return nil, &StepError{Step: s.ID, Object: dn, Expected: "the gMSA created", Err: err, Fix: dirFix(StepGMSA, err)}
		}
		return map[string]string{"dn": dn, "note": "created"}, nil
	}
	if !o.IsGMSA {
		return nil, &StepError{Step: s.ID, Object: o.DN, Expected: "a msDS-GroupManagedServiceAccount", Got: "another kind of account",
			Fix: "choose another gMSA name (--gmsa COMPONENT:NAME; Config.Accounts) and start a new journal"}
	}
	var changed []string
	err = d.modify(o.DN, func(m *ldap.ModifyRequest) {
		if !sameSIDs(o.Membership, sids) {
			m.Replace(ad.AttrGroupMSAMembership, []string{string(sd)})
			changed = append(changed, ad.AttrGroupMSAMembership)
		}
		if !strings.EqualFold(o.DNSHost, s.DNSHostName) {
			m.Replace(ad.AttrDNSHostName, []string{s.DNSHostName})
			changed = append(changed, ad.AttrDNSHostName)
		}
		if add := missingOf(o.SPNs, s.SPNs); len(add) > 0 {
			m.Add(ad.AttrServicePrincipalName, add)
			changed = append(changed, ad.AttrServicePrincipalName)
		}
		if add := missingOf(o.DelegateTo, s.DelegateTo); len(add) > 0 {
			m.Add(ad.AttrAllowedToDelegateTo, add)
			changed = append(changed, ad.AttrAllowedToDelegateTo)
		}
		if s.TrustedForDelegation && o.UAC&UACTrustedForDelegation == 0 {
			m.Replace(ad.AttrUserAccountControl, []string{strconv.FormatInt(o.UAC|UACTrustedForDelegation, 10)})
			changed = append(changed, ad.AttrUserAccountControl)
		}
	})
	if err != nil {
		return nil, &StepError{Step: s.ID, Object: o.DN, Expected: "the gMSA reconciled", Err: err, Fix: "set " + strings.Join(changed, ", ") + " by hand and resume: " + dirFix(StepGMSA, err)}
	}
	note := "exists, unchanged"
	if len(changed) > 0 {
		note = "exists, set " + strings.Join(changed, ", ")
	}
	return map[string]string{"dn": o.DN, "note": note}, nil
}

func (r *runner) ensureMember(s Step) (map[string]string, error) {
	d, err := r.dir()
	if err != nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Err: err, Fix: "check the DC and resume"}
	}
	g, err := d.findSAM(s.Object)
	if err != nil || g == nil {
		return nil, &StepError{Step: s.ID, Object: s.Object, Expected: "the group " + s.Object, Err: err, Fix: "create the sync group (the sync installer does) and resume"}
	}
	a, err := d.findSAM(s.Account)
	if err != nil || a == nil {
		return nil, &StepError{Step: s.ID, Object: s.Account, Expected: "the gMSA " + s.Account, Err: err, Fix: "resume (the gMSA step comes first)"}
	}
	if hasString(g.Members, a.DN) {
		return map[string]string{"note": "already a member"}, nil
	}
	if err := d.modify(g.DN, func(m *ldap.ModifyRequest) { m.Add(ad.AttrMember, []string{a.DN}) }); err != nil {
		return nil, &StepError{Step: s.ID, Object: g.DN, Expected: a.DN + " added", Err: err, Fix: "add it by hand and resume"}
	}
	return nil, nil
}

func missingOf(have, want []string) []string {
	var out []string
	for _, w := range want {
		if !hasString(have, w) {
			out = append(out, w)
		}
	}
	return out
}

func sameSIDs(a, b []ad.SID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
