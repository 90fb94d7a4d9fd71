package host

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/jcmturner/gokrb5/v8/types"
)

// A fleet's state for a saved world (sim/mim writes the file): each host's machine password,
// services, gMSA cache and kdssvc, as JSON. The world core saves itself (sim.Loop.Save).
//
// Divergence: pending cache refreshes are scheduled again from the saved cache, and a restored
// host logs on afresh (its group snapshot is that of the moment it is restored).

// Saved is one host as a saved world keeps it.
type Saved struct {
	Spec      Spec            `json:"spec"`
	DN        string          `json:"dn"`
	Password  string          `json:"password"`
	Boots     int             `json:"boots"`
	KDSSvc    bool            `json:"kdssvc"`
	Trigger   bool            `json:"trigger"`
	EncTypes  int64           `json:"encTypes"`
	Workloads []SavedWorkload `json:"workloads"`
	Cache     []SavedCache    `json:"cache"`
}

// SavedWorkload is one of a saved host's workloads.
type SavedWorkload struct {
	Kind      WorkloadKind `json:"kind"`
	Name      string       `json:"name"`
	Account   string       `json:"account"`
	Password  string       `json:"password"`
	StartType StartType    `json:"startType"`
	State     ServiceState `json:"state"`
	GMSA      string       `json:"gmsa"`
	LastError string       `json:"lastError,omitempty"`
}

// SavedCache is one gMSA in a saved host's local cache.
type SavedCache struct {
	SAM        string    `json:"sam"`
	DN         string    `json:"dn"`
	Installed  bool      `json:"installed"`
	Current    []byte    `json:"current"`
	Previous   []byte    `json:"previous"`
	Retrieved  time.Time `json:"retrieved"`
	ValidUntil time.Time `json:"validUntil"`
}

// SaveLocked is every host of the fleet, in the order they were added. Inside the loop.
func (f *Fleet) SaveLocked() []Saved {
	var out []Saved
	for _, h := range f.order {
		out = append(out, h.save())
	}
	return out
}

func (h *Host) save() Saved {
	sh := Saved{Spec: h.spec, DN: h.dn, Password: h.password, Boots: h.boots, KDSSvc: h.kdssvc,
		Trigger: h.trigger, EncTypes: h.encTypes}
	sh.Spec.DC = h.dc // the DC it talks to now (nltest /sc_reset moves it)
	for _, k := range slices.Sorted(maps.Keys(h.work)) {
		wl := h.work[k]
		sw := SavedWorkload{Kind: wl.Kind, Name: wl.Name, Account: wl.Account, Password: wl.password,
			StartType: wl.StartType, State: wl.State, GMSA: wl.gmsa}
		if wl.LastError != nil {
			sw.LastError = wl.LastError.Error()
		}
		sh.Workloads = append(sh.Workloads, sw)
	}
	for _, k := range slices.Sorted(maps.Keys(h.gmsa)) {
		c := h.gmsa[k]
		sh.Cache = append(sh.Cache, SavedCache{SAM: c.sam, DN: c.dn, Installed: c.installed, Current: c.current,
			Previous: c.prev, Retrieved: c.retrieved, ValidUntil: c.validUntil})
	}
	return sh
}

// RestoreLocked adds the saved hosts to the fleet, in order, and returns them: each logs on at its
// DC as after a boot (a failure leaves it without tickets) and schedules its cache refreshes
// again. Inside the loop, at now.
func (f *Fleet) RestoreLocked(now time.Time, saved []Saved) ([]*Host, error) {
	var out []*Host
	for _, sh := range saved {
		h, err := f.restore(now, sh)
		if err != nil {
			return nil, err
		}
		f.byName[strings.ToUpper(h.name)] = h
		f.order = append(f.order, h)
		out = append(out, h)
	}
	return out, nil
}

func (f *Fleet) restore(now time.Time, sh Saved) (*Host, error) {
	h := &Host{w: f.w, f: f, spec: sh.Spec, dc: sh.Spec.DC, name: sh.Spec.Name, dn: sh.DN, sam: strings.ToUpper(sh.Spec.Name) + "$",
		fqdn: strings.ToLower(sh.Spec.Name) + "." + f.domain, password: sh.Password, encTypes: sh.EncTypes,
		boots: sh.Boots, kdssvc: sh.KDSSvc, trigger: sh.Trigger, gmsa: map[string]*cachedGMSA{}, work: map[string]*Workload{}}
	// Through the world's memo: loading the same saved world many times (crash-each loads one per
	// plan step, sharing the memo of the run) derives the same hosts' keys again each time.
	k, err := f.w.Keys().KeysFromString(h.password, fakead.KerberosSalt(f.domain, h.sam, true))
	if err != nil {
		return nil, fmt.Errorf("sim: loading host %s: %w", h.name, err)
	}
	h.keys = []types.EncryptionKey{{KeyType: kdc.EtypeAES256, KeyValue: k.AES256},
		{KeyType: kdc.EtypeAES128, KeyValue: k.AES128}, {KeyType: kdc.EtypeRC4, KeyValue: k.NTHash}}
	for _, sw := range sh.Workloads {
		wl := &Workload{Kind: sw.Kind, Name: sw.Name, Account: sw.Account, password: sw.Password,
			StartType: sw.StartType, State: sw.State, gmsa: sw.GMSA}
		if sw.LastError != "" {
			wl.LastError = &Error{Host: h.name, Op: "start " + sw.Name, Reason: fmt.Errorf("%s", sw.LastError)}
		}
		h.work[workKey(wl.Kind, wl.Name)] = wl
	}
	salt := func(sam string) string { return fakekds.MachineSalt(f.domain, sam) }
	for _, sc := range sh.Cache {
		c := &cachedGMSA{sam: sc.SAM, dn: sc.DN, installed: sc.Installed, current: sc.Current, prev: sc.Previous,
			retrieved: sc.Retrieved, validUntil: sc.ValidUntil}
		if c.cur, err = f.gmsaKeys(c.current, salt(c.sam)); err != nil {
			return nil, err
		}
		if c.prevKeys, err = f.gmsaKeys(c.prev, salt(c.sam)); err != nil {
			return nil, err
		}
		h.gmsa[strings.ToLower(c.sam)] = c
		at := c.validUntil.Add(-5 * time.Minute)
		if at.Before(now) {
			at = now.Add(time.Minute)
		}
		h.scheduleRefresh(at, c)
	}
	_ = h.logon(now, f.w.DC(h.dc), false) // as after a boot; a failure leaves it without tickets
	return h, nil
}
