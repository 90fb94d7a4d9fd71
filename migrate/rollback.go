package migrate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// rollbackPrefix starts the id of every rollback step in the journal.
const rollbackPrefix = "rollback:"

// Rollback returns every service the journal shows touched to the account it ran under before
// (the plan's From), restores the sync key set from the verified export, starts the services,
// puts back PollExchangeEnabled, and moves the SPNs and delegation back from the gMSAs to the
// old accounts (after the services run under those again). It is journaled like Apply, into the same journal, and can
// itself be resumed by running it again. Directory objects (groups, gMSAs) are left in place: a
// gMSA nobody uses is harmless, and keeping it makes a second attempt cheap.
//
// The old accounts are ordinary accounts: their passwords come from Config.PreviousPasswords.
func (e *Engine) Rollback(ctx context.Context, opt Options) (*Result, error) {
	j, err := openJournalForUpdate(opt.Journal, "rollback")
	if err != nil {
		return nil, err
	}
	defer j.Close()
	r := newRunner(e, j, opt)
	defer r.close()
	steps := rollbackSteps(j)
	for i, s := range steps {
		s := s
		if err := r.do(ctx, i+1, len(steps), s, func() (map[string]string, error) { return r.undo(ctx, s) }); err != nil {
			return r.res, err
		}
	}
	return r.res, nil
}

// rollbackSteps derives the undo steps from the plan and what the journal shows was touched, in
// reverse plan order. The list depends only on apply's records, so a resumed rollback gets the
// same list.
func rollbackSteps(j *Journal) []Step {
	var out []Step
	p := j.Plan
	for i := len(p.Steps) - 1; i >= 0; i-- {
		s := p.Steps[i]
		switch s.Kind {
		case StepChangeMode:
			at := "@" + s.Host
			if len(s.Pages) > 0 {
				if !j.Touched(s.ID) {
					continue
				}
				var from []string
				for _, pg := range s.Pages {
					from = append(from, pg.From)
				}
				out = append(out, Step{ID: rollbackPrefix + s.ID, Kind: StepChangeMode, Host: s.Host, Object: s.Object, Component: s.Component,
					Pages: s.Pages, Exchange: s.Exchange, Description: "MIM Service MSI Change back, one run: " + strings.Join(from, ", ")})
				for _, pg := range s.Pages {
					out = append(out, Step{ID: rollbackPrefix + "start:" + pg.Service + at, Kind: StepStart, Host: s.Host, Object: pg.Service,
						Component: pg.Component, Account: pg.From, Description: "start " + pg.Service + " as " + pg.From})
				}
				continue
			}
			touched := j.Touched(s.ID)
			if s.Component == CompSync {
				touched = touched || j.Touched("stop:"+s.Object+at)
			}
			if !touched {
				continue
			}
			out = append(out, Step{ID: rollbackPrefix + s.ID, Kind: StepChangeMode, Host: s.Host, Object: s.Object, Component: s.Component,
				Account: s.From, From: s.Account, Exchange: s.Exchange,
				Description: fmt.Sprintf("change mode back: %s -> %s", s.Account, s.From)})
			if s.Component == CompSync && j.Touched(s.ID) {
				out = append(out, Step{ID: rollbackPrefix + "keyset-restore" + at, Kind: StepRestoreKeySet, Host: s.Host, Object: p.KeySetPath,
					Path: p.KeySetPath, Component: CompSync, Description: "restore the key set from " + p.KeySetPath})
			}
			out = append(out, Step{ID: rollbackPrefix + "start:" + s.Object + at, Kind: StepStart, Host: s.Host, Object: s.Object,
				Component: s.Component, Account: s.From, Description: "start " + s.Object + " as " + s.From})
		case StepSetLogon:
			if !j.Touched(s.ID) {
				continue
			}
			out = append(out, Step{ID: rollbackPrefix + s.ID, Kind: StepSetLogon, Host: s.Host, Object: s.Object, Component: s.Component,
				Account: s.From, From: s.Account, Description: fmt.Sprintf("password-update script back: %s -> %s", s.Account, s.From)},
				Step{ID: rollbackPrefix + "start:" + s.Object + "@" + s.Host, Kind: StepStart, Host: s.Host, Object: s.Object,
					Component: s.Component, Account: s.From, Description: "start " + s.Object + " as " + s.From})
		case StepMoveSPN:
			obs := j.first(s.ID, PhaseObserved)
			if obs == nil || len(obs.Data) == 0 {
				continue
			}
			out = append(out, Step{ID: rollbackPrefix + s.ID, Kind: StepMoveSPN, Object: s.Object, Targets: s.Targets,
				Description: "put the SPNs and delegation back on " + s.Object})
		case StepRegistry:
			obs := j.first(s.ID, PhaseObserved)
			if obs == nil {
				continue
			}
			out = append(out, Step{ID: rollbackPrefix + s.ID, Kind: StepRegistry, Host: s.Host, Object: s.Object, Component: s.Component,
				Registry:    &RegistryWrite{Key: s.Registry.Key, Value: s.Registry.Value, Data: parseRegString(obs.Data["previous"])},
				Description: "put back " + s.Object + " = " + obs.Data["previous"]})
		}
	}
	return out
}

// parseRegString reads regString's form. "absent" becomes DWORD 0.
// Divergence: HostAgent cannot delete a value; a value that was absent is put back as 0, which
// MIM reads the same way (polling off).
func parseRegString(s string) RegistryValue {
	if v, ok := strings.CutPrefix(s, "dword:"); ok {
		n, _ := strconv.ParseUint(v, 10, 32)
		return RegistryValue{Kind: RegDWord, DWord: uint32(n)}
	}
	if v, ok := strings.CutPrefix(s, "sz:"); ok {
		return RegistryValue{Kind: RegString, String: v}
	}
	return RegistryValue{Kind: RegDWord, DWord: 0}
}

func (r *runner) undo(ctx context.Context, s Step) (map[string]string, error) {
	if s.Kind == StepMoveSPN {
		return r.undoMoveSPNs(s, r.j.first(strings.TrimPrefix(s.ID, rollbackPrefix), PhaseObserved).Data)
	}
	h, err := r.e.host(s.Host)
	if err != nil {
		return nil, &StepError{Step: s.ID, Host: s.Host, Err: err, Fix: "add the host's HostAgent and run rollback again"}
	}
	switch s.Kind {
	case StepSetLogon:
		pw, ok := r.e.cfg.PreviousPasswords[s.Account]
		if !ok && !strings.HasSuffix(s.Account, "$") {
			return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "the password of " + s.Account,
				Err: ErrConfig, Fix: "give Config.PreviousPasswords[" + s.Account + "] and run rollback again"}
		}
		return r.setLogon(ctx, h, s, s.Account, pw)
	case StepChangeMode:
		if len(s.Pages) > 0 {
			return r.changeModeRun(ctx, h, s, s.Pages, func(pg Page) string { return pg.From }, func(pg Page) (string, error) {
				pw, ok := r.e.cfg.PreviousPasswords[pg.From]
				if !ok && !strings.HasSuffix(pg.From, "$") {
					return "", ErrConfig
				}
				return pw, nil
			})
		}
		st, err := h.QueryService(ctx, s.Object)
		if err != nil {
			return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "the service to exist", Err: err, Fix: "check the MIM installation"}
		}
		if s.Component == CompSync {
			if err := h.StopService(ctx, s.Object); err != nil {
				return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "stopped", Err: err, Fix: "stop it by hand and run rollback again"}
			}
		}
		if sameAccount(st.Account, s.Account) {
			return map[string]string{"note": "already runs as " + s.Account}, nil
		}
		pw, ok := r.e.cfg.PreviousPasswords[s.Account]
		if !ok && !strings.HasSuffix(s.Account, "$") {
			return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "the password of " + s.Account,
				Err: ErrConfig, Fix: "give Config.PreviousPasswords[" + s.Account + "] and run rollback again"}
		}
		req := ChangeModeRequest{Component: s.Component, Account: s.Account, Password: pw, Exchange: r.withMailPassword(s.Exchange)}
		res, err := h.ChangeMode(ctx, req)
		if err != nil {
			return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "change mode back to " + s.Account, Err: err,
				Fix: "check the password in Config.PreviousPasswords and the installer log"}
		}
		for _, w := range res.Warnings {
			r.res.Warnings = append(r.res.Warnings, s.Host+": "+string(s.Component)+": "+w)
		}
		return map[string]string{"account": res.Account}, nil
	case StepRestoreKeySet:
		if err := r.guardExport(ctx, h, s); err != nil {
			return nil, err
		}
		if err := h.RestoreKeySet(ctx, s.Path); err != nil {
			return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Path, Expected: "the key set restored", Err: err,
				Fix: "restore it with the Key Management tool from " + s.Path}
		}
		return nil, nil
	case StepStart:
		if err := h.StartService(ctx, s.Object); err != nil {
			return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: "running as " + s.Account, Err: err, Fix: r.startFix(s)}
		}
		return r.expectState(ctx, h, s, StateRunning, s.Account)
	case StepRegistry:
		w := s.Registry
		if err := h.WriteRegistry(ctx, w.Key, w.Value, w.Data); err != nil {
			return nil, &StepError{Step: s.ID, Host: s.Host, Object: s.Object, Expected: regString(w.Data), Err: err, Fix: "set it by hand"}
		}
		return nil, nil
	}
	return nil, &StepError{Step: s.ID, Err: errors.New("no undo for this step kind")}
}
