package scenarios

import (
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

// The KDS cmdlets: Add-KdsRootKey creates the key with fakekds (randomness from the world's
// seeded stream "scenario/kds") and writes it as an msKds-ProvRootKey object below
// CN=Master Root Keys on the DC it runs on, as the session's principal.

func init() {
	register(&cmdletDef{
		name: "Add-KdsRootKey",
		params: []paramDef{
			{name: "EffectiveTime", kind: pDate, pos: 0},
			{name: "EffectiveImmediately", kind: pSwitch, pos: -1},
			{name: "LocalTestOnly", kind: pSwitch, pos: -1},
		},
		run: addKdsRootKey,
	})
	register(&cmdletDef{name: "Get-KdsRootKey", run: getKdsRootKey})
	register(&cmdletDef{
		name:   "Test-KdsRootKey",
		params: []paramDef{{name: "KeyId", kind: pGUID, pos: 0, mandatory: true}},
		run:    testKdsRootKey,
	})
}

func addKdsRootKey(x *cmdCtx, b bound) ([]any, error) {
	if b.on("EffectiveImmediately") && b.has("EffectiveTime") {
		return nil, psErrf("Parameter set cannot be resolved using the specified named parameters.")
	}
	var rk *fakekds.RootKey
	err := x.do(func(a *adCtx) error {
		opt := fakekds.AddOptions{EffectiveImmediately: b.on("EffectiveImmediately"), LocalTestOnly: b.on("LocalTestOnly")}
		if t, ok := b["EffectiveTime"].(time.Time); ok {
			ft := ad.FileTimeFromTime(t)
			opt.EffectiveTime = &ft
		}
		dcDN := "CN=" + a.d.DC().Name + ",OU=Domain Controllers," + a.d.DomainDN()
		var err error
		rk, err = fakekds.AddKdsRootKey(x.r.kdsRand, ad.FileTimeFromTime(a.now), dcDN, opt)
		if err != nil {
			return psErrf("%v", err)
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
	return []any{&psObject{table: true, props: []psProp{{"Guid", rk.ID.String()}}}}, nil
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

func getKdsRootKey(x *cmdCtx, b bound) ([]any, error) {
	var out []any
	err := x.do(func(a *adCtx) error {
		keys, err := a.rootKeys()
		if err != nil {
			return err
		}
		for _, o := range keys {
			rk, perr := parseKey(o)
			valid := perr == nil
			props := []psProp{{"AttributeOfWrongFormat", nil}}
			if rk == nil {
				props = append(props, psProp{"KeyValue", nil}, psProp{"EffectiveTime", nil}, psProp{"CreationTime", nil},
					psProp{"IsFormatValid", false}, psProp{"DomainController", o.str("msKds-DomainID")},
					psProp{"ServerConfiguration", "Microsoft.KeyDistributionService.Cmdlets.KdsServerConfiguration"},
					psProp{"KeyId", o.str("cn")}, psProp{"VersionNumber", o.str("msKds-Version")})
			} else {
				props = append(props,
					psProp{"KeyValue", byteList(rk.Data)},
					psProp{"EffectiveTime", rk.UseStartTime.Time()},
					psProp{"CreationTime", rk.CreateTime.Time()},
					psProp{"IsFormatValid", valid},
					psProp{"DomainController", rk.DomainID},
					psProp{"ServerConfiguration", "Microsoft.KeyDistributionService.Cmdlets.KdsServerConfiguration"},
					psProp{"KeyId", rk.ID.String()},
					psProp{"VersionNumber", int64(rk.Version)})
			}
			out = append(out, &psObject{props: props})
		}
		return nil
	})
	return out, err
}

func testKdsRootKey(x *cmdCtx, b bound) ([]any, error) {
	id := strings.ToLower(b.str("KeyId"))
	if _, err := ad.ParseGUID(id); err != nil {
		return nil, psErrf("Cannot bind parameter 'KeyId'. Cannot convert value \"%s\" to type \"System.Guid\". Error: \"Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).\"", b.str("KeyId"))
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
