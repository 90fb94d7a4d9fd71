package scenarios

import (
	"github.com/gmsasim/gmsasim/scenarios/ps"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

// The KDS cmdlets: Add-KdsRootKey creates the key with fakekds (randomness from the world's
// seeded stream "scenario/kds") and writes it as an msKds-ProvRootKey object below
// CN=Master Root Keys on the DC it runs on, as the session's principal.

// kdsCmdlets are Add-, Get- and Test-KdsRootKey.
func kdsCmdlets() []*cmdletDef {
	return []*cmdletDef{{
		Cmdlet: ps.Cmdlet{Name: "Add-KdsRootKey",
			Params: []ps.Param{
				{Name: "EffectiveTime", Kind: ps.Date, Pos: 0},
				{Name: "EffectiveImmediately", Kind: ps.Switch, Pos: -1},
				{Name: "LocalTestOnly", Kind: ps.Switch, Pos: -1},
			}},
		run: addKdsRootKey,
	}, {
		Cmdlet: ps.Cmdlet{Name: "Get-KdsRootKey"}, run: getKdsRootKey,
	}, {
		Cmdlet: ps.Cmdlet{Name: "Test-KdsRootKey",
			Params: []ps.Param{{Name: "KeyId", Kind: ps.GUID, Pos: 0, Mandatory: true}}},
		run: testKdsRootKey,
	}}
}

func addKdsRootKey(x *cmdCtx, b ps.Bound) ([]any, error) {
	if b.On("EffectiveImmediately") && b.Has("EffectiveTime") {
		return nil, ps.Errorf("Parameter set cannot be resolved using the specified named parameters.")
	}
	var rk *fakekds.RootKey
	err := x.do(func(a *adCtx) error {
		opt := fakekds.AddOptions{EffectiveImmediately: b.On("EffectiveImmediately"), LocalTestOnly: b.On("LocalTestOnly")}
		if t, ok := b["EffectiveTime"].(time.Time); ok {
			ft := ad.FileTimeFromTime(t)
			opt.EffectiveTime = &ft
		}
		dcDN := "CN=" + a.d.DC().Name + ",OU=Domain Controllers," + a.d.DomainDN()
		var err error
		rk, err = fakekds.AddKdsRootKey(x.r.kdsRand, ad.FileTimeFromTime(a.now), dcDN, opt)
		if err != nil {
			return ps.Errorf("%v", err)
		}
		if opt.LocalTestOnly {
			return nil
		}
		var attrs []fakead.Attribute
		for _, at := range rk.Attributes() {
			attrs = append(attrs, fakead.Attribute{Name: at.Name, Values: at.Values})
		}
		return adError(a.d.Add(a.now, a.c, rk.DN(a.d.DomainDN()), attrs), "")
	})
	if err != nil {
		return nil, err
	}
	if !rk.LocalTestOnly {
		x.r.noteRootKey(x.target, rk)
	}
	return []any{&ps.Object{Table: true, Props: []ps.Prop{{Name: "Guid", Val: rk.ID.String()}}}}, nil
}

// rootKeys reads the root keys a DC's replica holds, as the caller.
func (a *adCtx) rootKeys() ([]*obj, error) {
	base := fakekds.RootKeyContainerRDNs + "," + a.d.DomainDN()
	res, err := a.d.Search(a.now, a.c, &fakead.SearchRequest{BaseDN: base, Scope: fakead.ScopeOne,
		Filter: eq("objectClass", ad.ClassKdsProvRootKey), Attributes: []string{"*"}, SDFlags: -1})
	if err != nil {
		return nil, adError(err, "")
	}
	out := make([]*obj, len(res))
	for i, e := range res {
		out[i] = toObj(e)
	}
	return out, nil
}

func parseKey(o *obj) (*fakekds.RootKey, error) {
	var attrs []fakekds.Attr
	for name, v := range o.attrs {
		attrs = append(attrs, fakekds.Attr{Name: name, Values: v})
	}
	return fakekds.ParseRootKey(attrs)
}

func getKdsRootKey(x *cmdCtx, b ps.Bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		keys, err := a.rootKeys()
		if err != nil {
			return err
		}
		for _, o := range keys {
			rk, perr := parseKey(o)
			valid := perr == nil
			props := []ps.Prop{{Name: "AttributeOfWrongFormat", Val: nil}}
			if rk == nil {
				props = append(props, ps.Prop{Name: "KeyValue", Val: nil}, ps.Prop{Name: "EffectiveTime", Val: nil}, ps.Prop{Name: "CreationTime", Val: nil},
					ps.Prop{Name: "IsFormatValid", Val: false}, ps.Prop{Name: "DomainController", Val: o.str("msKds-DomainID")},
					ps.Prop{Name: "ServerConfiguration", Val: "Microsoft.KeyDistributionService.Cmdlets.KdsServerConfiguration"},
					ps.Prop{Name: "KeyId", Val: o.str("cn")}, ps.Prop{Name: "VersionNumber", Val: o.str("msKds-Version")})
			} else {
				props = append(props,
					ps.Prop{Name: "KeyValue", Val: byteList(rk.Data)},
					ps.Prop{Name: "EffectiveTime", Val: rk.UseStartTime.Time()},
					ps.Prop{Name: "CreationTime", Val: rk.CreateTime.Time()},
					ps.Prop{Name: "IsFormatValid", Val: valid},
					ps.Prop{Name: "DomainController", Val: rk.DomainID},
					ps.Prop{Name: "ServerConfiguration", Val: "Microsoft.KeyDistributionService.Cmdlets.KdsServerConfiguration"},
					ps.Prop{Name: "KeyId", Val: rk.ID.String()},
					ps.Prop{Name: "VersionNumber", Val: int64(rk.Version)})
			}
			out = append(out, &ps.Object{Props: props})
		}
		return nil
	})
	return out, err
}

func testKdsRootKey(x *cmdCtx, b ps.Bound) ([]any, error) {
	id := strings.ToLower(b.Str("KeyId"))
	if _, err := ad.ParseGUID(id); err != nil {
		return nil, ps.Errorf("Cannot bind parameter 'KeyId'. Cannot convert value \"%s\" to type \"System.Guid\". Error: \"Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).\"", b.Str("KeyId"))
	}
	ok := false
	err := x.do(func(a *adCtx) error {
		keys, err := a.rootKeys()
		if err != nil {
			return err
		}
		for _, o := range keys {
			if strings.EqualFold(o.str("cn"), id) {
				_, perr := parseKey(o)
				ok = perr == nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []any{ok}, nil
}
