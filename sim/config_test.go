package sim

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{}.normalise()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Domain != "contoso.com" || cfg.NetBIOS != "CONTOSO" || cfg.SchemaVersion != 88 ||
		!cfg.Start.Equal(time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)) || len(cfg.DCs) != 1 ||
		cfg.DCs[0] != (DCSpec{Name: "DC1", OS: "2022"}) || cfg.LinkDelay != 15*time.Second ||
		cfg.MaxEvents != DefaultMaxEvents || cfg.MaxSimTime != DefaultMaxSimTime || len(cfg.Links) != 0 {
		t.Errorf("defaults = %+v", cfg)
	}
	cfg, err = Config{Domain: "Fabrikam.COM.", DCs: []DCSpec{{Name: "dc1"}, {Name: "dc2", OS: "2012R2"}, {Name: "dc3"}},
		Links: nil, LinkDelay: time.Hour}.normalise()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Domain != "fabrikam.com" || cfg.NetBIOS != "FABRIKAM" || cfg.DCs[1] != (DCSpec{"DC2", "2012R2"}) {
		t.Errorf("names = %q %q %+v", cfg.Domain, cfg.NetBIOS, cfg.DCs)
	}
	want := []LinkSpec{{"DC1", "DC2", time.Hour}, {"DC1", "DC3", time.Hour}, {"DC2", "DC3", time.Hour}}
	if len(cfg.Links) != 3 || cfg.Links[0] != want[0] || cfg.Links[1] != want[1] || cfg.Links[2] != want[2] {
		t.Errorf("full mesh = %+v, want %+v", cfg.Links, want)
	}
	if domainDN(cfg.Domain) != "DC=fabrikam,DC=com" {
		t.Errorf("domainDN = %q", domainDN(cfg.Domain))
	}
}

func TestConfigRejects(t *testing.T) {
	two := []DCSpec{{Name: "DC1"}, {Name: "DC2"}}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{SchemaVersion: 60}, "sim: config SchemaVersion=60: want one of [47 52 56 69 87 88 91]"},
		{Config{SchemaVersion: 31}, "SchemaVersion=31"},
		{Config{Domain: "localhost"}, "Domain=localhost: want a DNS name with at least two labels"},
		{Config{Domain: "bad_name.com"}, `label "bad_name" has '_'`},
		{Config{NetBIOS: "WAYTOOLONGNETBIOSNAME"}, "NetBIOS=WAYTOOLONGNETBIOSNAME"},
		{Config{DCs: []DCSpec{{Name: "DC1"}, {Name: "dc1"}}}, "DCs[1].Name=DC1: duplicate DC name"},
		{Config{DCs: []DCSpec{{Name: ""}}}, "DCs[0].Name="},
		{Config{DCs: []DCSpec{{Name: "DC1", OS: "2003"}}}, "DCs[0].OS=2003: want one of"},
		{Config{DCs: two, Links: []LinkSpec{{A: "DC1", B: "DC3"}}}, "Links[0].B=DC3: no DC of that name"},
		{Config{DCs: two, Links: []LinkSpec{{A: "DC1", B: "dc1"}}}, "a link joins two different DCs"},
		{Config{DCs: two, Links: []LinkSpec{{A: "DC1", B: "DC2"}, {A: "DC2", B: "DC1"}}}, "Links[1]=DC2-DC1: link listed twice"},
		{Config{DCs: two, Links: []LinkSpec{{A: "DC1", B: "DC2", Delay: -1}}}, "cannot be negative"},
		{Config{LinkDelay: -time.Second}, "LinkDelay=-1s"},
		// A DC's OS implies its adprep's schema: no 2012 R2 DC in a 2008 R2 (47) forest, no 2022 DC
		// in a 2016 (87) one.
		{Config{SchemaVersion: 47, DCs: []DCSpec{{Name: "DC1", OS: "2012R2"}}}, "DCs[0].OS=2012R2: a Windows Server 2012R2 DC needs a forest schema of objectVersion 69 or later"},
		{Config{SchemaVersion: 87}, "DCs[0].OS=2022: a Windows Server 2022 DC needs a forest schema of objectVersion 88"},
		{Config{SchemaVersion: 52, DCs: []DCSpec{{Name: "DC1", OS: "2008R2"}, {Name: "DC2", OS: "2012R2"}}}, "DCs[1].OS=2012R2"},
	} {
		_, err := New(tc.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want a ConfigError containing %q", tc.cfg, err, tc.want)
		}
	}
}
