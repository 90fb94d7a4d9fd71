package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Saving a MIM world to bytes and loading it back, so that `gmsasim migrate resume` after a
// killed process finds the world as the killed process left it: each DC's replica as LDIF, each
// host's state (machine password, services, gMSA cache, kdssvc) and each MIM host's state
// (components, key set files, registry, event log) as JSON, and the simulated time.
//
// Divergence: queued replication is delivered before saving (ReplicateNow), pending events (the
// hosts' cache refreshes) are scheduled again from the saved cache, the trace starts afresh, and
// the restored world's random streams start again from the seed (objectGUIDs come from a stream
// named after the saved moment, so they do not collide with saved ones).

// MIMWorldStateVersion is the format of SaveMIMWorld.
const MIMWorldStateVersion = 1

type savedWorld struct {
	Format   int                 `json:"format"`
	Now      time.Time           `json:"now"`
	Config   savedConfig         `json:"config"`
	Replicas map[string]string   `json:"replicas"` // DC name → LDIF
	Hosts    []savedHost         `json:"hosts"`
	MIM      map[string]savedMIM `json:"mim"`   // host name → MIM state
	Known    map[string]string   `json:"known"` // MIM.KnownPasswords
}

type savedConfig struct {
	Seed          uint64        `json:"seed"`
	Domain        string        `json:"domain"`
	NetBIOS       string        `json:"netbios"`
	SchemaVersion int           `json:"schemaVersion"`
	DCs           []DCSpec      `json:"dcs"`
	Links         []LinkSpec    `json:"links"`
	LinkDelay     time.Duration `json:"linkDelay"`
	AdminPassword string        `json:"adminPassword"`
}

type savedHost struct {
	Spec      HostSpec        `json:"spec"`
	DN        string          `json:"dn"`
	Password  string          `json:"password"`
	Boots     int             `json:"boots"`
	KDSSvc    bool            `json:"kdssvc"`
	Trigger   bool            `json:"trigger"`
	EncTypes  int64           `json:"encTypes"`
	Workloads []savedWorkload `json:"workloads"`
	Cache     []savedCache    `json:"cache"`
}

type savedWorkload struct {
	Kind      WorkloadKind `json:"kind"`
	Name      string       `json:"name"`
	Account   string       `json:"account"`
	Password  string       `json:"password"`
	StartType StartType    `json:"startType"`
	State     ServiceState `json:"state"`
	GMSA      string       `json:"gmsa"`
	LastError string       `json:"lastError,omitempty"`
}

type savedCache struct {
	SAM        string    `json:"sam"`
	DN         string    `json:"dn"`
	Installed  bool      `json:"installed"`
	Current    []byte    `json:"current"`
	Previous   []byte    `json:"previous"`
	Retrieved  time.Time `json:"retrieved"`
	ValidUntil time.Time `json:"validUntil"`
}

type savedMIM struct {
	Version    string            `json:"version"`
	Components []MIMComponent    `json:"components"`
	Agents     []ManagementAgent `json:"agents"`
	PCNS       bool              `json:"pcns"`
	Exchange   ExchangeMode      `json:"exchange"`
	Registry   [][4]string       `json:"registry"` // key, name, kind, data
	Files      map[string][]byte `json:"files"`
	Writes     map[string]int    `json:"writes"`
	KeyDB      string            `json:"keyDB"`
	KeyRun     string            `json:"keyRun"`
	SyncAuto   StartType         `json:"syncAuto"`
	Events     []string          `json:"events"`
	Warnings   []string          `json:"warnings"`
}

// SaveMIMWorld writes the world and its MIM deployment (m may be nil) as JSON.
func SaveMIMWorld(w *World, m *MIM) ([]byte, error) {
	if err := w.ReplicateNow(); err != nil {
		return nil, err
	}
	s := savedWorld{Format: MIMWorldStateVersion, Replicas: map[string]string{}, MIM: map[string]savedMIM{}}
	var out []byte
	err := w.enter(func() error {
		cfg := w.cfg
		s.Now = w.clock.Now()
		s.Config = savedConfig{Seed: cfg.Seed, Domain: cfg.Domain, NetBIOS: cfg.NetBIOS, SchemaVersion: cfg.SchemaVersion,
			DCs: cfg.DCs, Links: cfg.Links, LinkDelay: cfg.LinkDelay, AdminPassword: cfg.AdminPassword}
		for _, dc := range w.dcs {
			var b bytes.Buffer
			if err := dc.dir.ExportLDIF(&b); err != nil {
				return fmt.Errorf("sim: saving %s: %w", dc.name, err)
			}
			s.Replicas[dc.name] = b.String()
		}
		if w.hosts != nil {
			for _, h := range w.hosts.order {
				s.Hosts = append(s.Hosts, saveHost(h))
			}
		}
		if m != nil {
			s.Known = m.known
			for _, mh := range m.order {
				s.MIM[strings.ToUpper(mh.h.name)] = saveMIM(mh)
			}
		}
		var err error
		out, err = json.MarshalIndent(s, "", " ")
		return err
	})
	return out, err
}

func saveHost(h *Host) savedHost {
	sh := savedHost{Spec: h.spec, DN: h.dn, Password: h.password, Boots: h.boots, KDSSvc: h.kdssvc,
		Trigger: h.trigger, EncTypes: h.encTypes}
	for _, k := range sortedKeys(h.work) {
		wl := h.work[k]
		sw := savedWorkload{Kind: wl.Kind, Name: wl.Name, Account: wl.Account, Password: wl.password,
			StartType: wl.StartType, State: wl.State, GMSA: wl.gmsa}
		if wl.LastError != nil {
			sw.LastError = wl.LastError.Error()
		}
		sh.Workloads = append(sh.Workloads, sw)
	}
	for _, k := range sortedKeys(h.gmsa) {
		c := h.gmsa[k]
		sh.Cache = append(sh.Cache, savedCache{SAM: c.sam, DN: c.dn, Installed: c.installed, Current: c.current,
			Previous: c.prev, Retrieved: c.retrieved, ValidUntil: c.validUntil})
	}
	return sh
}

func saveMIM(mh *MIMHost) savedMIM {
	sm := savedMIM{Version: mh.version, Agents: mh.agents, PCNS: mh.pcns, Exchange: mh.exchange, Files: mh.files,
		Writes: mh.writes, KeyDB: mh.keyDB, KeyRun: mh.keyRun, SyncAuto: mh.syncAuto, Events: mh.events, Warnings: mh.warnings}
	for _, c := range MIMComponents {
		if mh.comps[c] {
			sm.Components = append(sm.Components, c)
		}
	}
	var keys []string
	for k := range mh.registry {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := mh.registry[k]
		sm.Registry = append(sm.Registry, [4]string{v.key, v.name, v.kind, v.data})
	}
	return sm
}

// LoadMIMWorld rebuilds a world and its MIM deployment from SaveMIMWorld's output, at the saved
// simulated time. cfg supplies what is not saved (TraceWriter, TraceLines, bounds); its domain,
// DCs, seed and passwords are replaced by the saved ones.
func LoadMIMWorld(b []byte, cfg Config) (*World, *MIM, error) {
	var s savedWorld
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, nil, fmt.Errorf("sim: loading a saved world: %w", err)
	}
	if s.Format != MIMWorldStateVersion {
		return nil, nil, fmt.Errorf("sim: loading a saved world: format %d, want %d", s.Format, MIMWorldStateVersion)
	}
	// A zero time would become DefaultStart silently, and a time outside the range the KDS and
	// Kerberos code assume fails far from here (a time in 1601, FILETIME zero, made logons fail
	// with "access denied"): a saved world's time comes from a simulation that started after 1970.
	why := ""
	switch {
	case s.Now.IsZero():
		why = "zero, as when the file has no time"
	case s.Now.Before(time.Unix(0, 0)):
		why = "before 1970"
	case s.Now.Year() > 9000:
		why = "after the year 9000"
	}
	if why != "" {
		return nil, nil, fmt.Errorf("simulated time %s is not a plausible time (it is %s; a saved world's time comes from a simulation that ran after 1970, "+
			"so the file is damaged or was edited): restore it from a copy, or start again with a new journal", s.Now.UTC().Format(time.RFC3339), why)
	}
	cfg.Seed, cfg.Start, cfg.Domain, cfg.NetBIOS = s.Config.Seed, s.Now, s.Config.Domain, s.Config.NetBIOS
	cfg.SchemaVersion, cfg.DCs, cfg.Links, cfg.LinkDelay = s.Config.SchemaVersion, s.Config.DCs, s.Config.Links, s.Config.LinkDelay
	cfg.AdminPassword, cfg.Realtime = s.Config.AdminPassword, false
	w, err := newWorld(cfg)
	if err != nil {
		return nil, nil, err
	}
	var dirs []*fakead.Directory
	var reps []replica
	for _, dc := range w.cfg.DCs {
		text, ok := s.Replicas[dc.Name]
		if !ok {
			return nil, nil, fmt.Errorf("sim: loading a saved world: no replica for %s", dc.Name)
		}
		d, err := fakead.ImportLDIF(strings.NewReader(text))
		if err != nil {
			return nil, nil, fmt.Errorf("sim: loading %s: %w", dc.Name, err)
		}
		dirs, reps = append(dirs, d), append(reps, d)
	}
	// New objectGUIDs come from a stream named after the saved moment and the replicas' USNs, so
	// that they differ from those minted before the save and after an earlier restore.
	var usns uint64
	for _, d := range dirs {
		usns += d.HighestUSN()
	}
	ids := GUIDSource{w.streams.Get(fmt.Sprintf("%s/restore/%d/%d", StreamGUIDs, s.Now.UnixNano(), usns))}
	for _, d := range dirs {
		d.SetIDSource(ids)
	}
	w.attach(dirs, reps)
	m := NewMIM(w)
	for k, v := range s.Known {
		m.known[k] = v
	}
	err = w.enter(func() error {
		now := w.clock.Now()
		hs := w.hostsLocked()
		for _, sh := range s.Hosts {
			h, err := loadHost(w, now, sh)
			if err != nil {
				return err
			}
			hs.byName[strings.ToUpper(h.name)] = h
			hs.order = append(hs.order, h)
			if sm, ok := s.MIM[strings.ToUpper(h.name)]; ok {
				mh := loadMIM(m, h, sm)
				m.hosts[strings.ToUpper(h.name)] = mh
				m.order = append(m.order, mh)
			}
		}
		w.trace.Logf(now, "world restored from a saved state: %d hosts, %d MIM hosts", len(hs.order), len(m.order))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return w, m, nil
}

func loadHost(w *World, now time.Time, sh savedHost) (*Host, error) {
	h := &Host{w: w, spec: sh.Spec, name: sh.Spec.Name, dn: sh.DN, sam: strings.ToUpper(sh.Spec.Name) + "$",
		fqdn: strings.ToLower(sh.Spec.Name) + "." + w.cfg.Domain, password: sh.Password, encTypes: sh.EncTypes,
		boots: sh.Boots, kdssvc: sh.KDSSvc, trigger: sh.Trigger, gmsa: map[string]*cachedGMSA{}, work: map[string]*Workload{}}
	// Through fakekds's memo: loading the same saved world many times (crash-each loads one per
	// plan step) derives the same hosts' keys again each time.
	k, err := fakekds.CachedKeysFromString(h.password, fakead.KerberosSalt(w.cfg.Domain, h.sam, true))
	if err != nil {
		return nil, fmt.Errorf("sim: loading host %s: %w", h.name, err)
	}
	h.keys = []types.EncryptionKey{{KeyType: kdc.EtypeAES256, KeyValue: k.AES256},
		{KeyType: kdc.EtypeAES128, KeyValue: k.AES128}, {KeyType: kdc.EtypeRC4, KeyValue: k.NTHash}}
	for _, sw := range sh.Workloads {
		wl := &Workload{Kind: sw.Kind, Name: sw.Name, Account: sw.Account, password: sw.Password,
			StartType: sw.StartType, State: sw.State, gmsa: sw.GMSA}
		if sw.LastError != "" {
			wl.LastError = &HostError{Host: h.name, Op: "start " + sw.Name, Reason: fmt.Errorf("%s", sw.LastError)}
		}
		h.work[workKey(wl.Kind, wl.Name)] = wl
	}
	salt := func(sam string) string { return fakekds.MachineSalt(w.cfg.Domain, sam) }
	for _, sc := range sh.Cache {
		c := &cachedGMSA{sam: sc.SAM, dn: sc.DN, installed: sc.Installed, current: sc.Current, prev: sc.Previous,
			retrieved: sc.Retrieved, validUntil: sc.ValidUntil}
		if c.cur, err = gmsaKeys(c.current, salt(c.sam)); err != nil {
			return nil, err
		}
		if c.prevKeys, err = gmsaKeys(c.prev, salt(c.sam)); err != nil {
			return nil, err
		}
		h.gmsa[strings.ToLower(c.sam)] = c
		at := c.validUntil.Add(-5 * time.Minute)
		if at.Before(now) {
			at = now.Add(time.Minute)
		}
		h.scheduleRefresh(at, c)
	}
	_ = h.logon(now, w.byName[h.spec.DC], false) // as after a boot; a failure leaves it without tickets
	return h, nil
}

func loadMIM(m *MIM, h *Host, sm savedMIM) *MIMHost {
	mh := &MIMHost{m: m, h: h, version: sm.Version, comps: map[MIMComponent]bool{}, agents: sm.Agents, pcns: sm.PCNS,
		exchange: sm.Exchange, registry: map[string]regValue{}, files: map[string][]byte{}, writes: map[string]int{},
		keyDB: sm.KeyDB, keyRun: sm.KeyRun, syncAuto: sm.SyncAuto, events: sm.Events, warnings: sm.Warnings}
	for _, c := range sm.Components {
		mh.comps[c] = true
	}
	for _, r := range sm.Registry {
		mh.registry[strings.ToLower(r[0]+`\`+r[1])] = regValue{r[0], r[1], r[2], r[3]}
	}
	for k, v := range sm.Files {
		mh.files[k] = v
	}
	for k, v := range sm.Writes {
		mh.writes[k] = v
	}
	return mh
}
