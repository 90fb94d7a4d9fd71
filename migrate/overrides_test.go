package migrate

import (
	"errors"
	"strings"
	"testing"
)

func TestOverridesApply(t *testing.T) {
	var c Config
	ov := Overrides{GMSA: []string{"sync:MIMSyncGMSAsvc,service:MIMSvcGMSA", "pam-rest:PAMRest"}, Installer: []string{`sync:CONTOSO\MIMSyncGMSAsvc$`},
		SyncServersGroup: "SyncHosts", ServiceServersGroup: "SvcHosts", RootKeyRule: "ONE-INTERVAL-AGO", Mode: "script"}
	if err := ov.Apply(&c); err != nil {
		t.Fatal(err)
	}
	if got := c.Accounts[CompSync]; got.Name != "MIMSyncGMSAsvc" || got.Installer != `CONTOSO\MIMSyncGMSAsvc$` {
		t.Errorf("sync account %+v", got)
	}
	if c.Accounts[CompService].Name != "MIMSvcGMSA" || c.Accounts[CompPAMREST].Name != "PAMRest" {
		t.Errorf("accounts %+v", c.Accounts)
	}
	if c.SyncServersGroup != "SyncHosts" || c.ServiceServersGroup != "SvcHosts" || c.RootKeyRule != RuleOneIntervalAgo || c.Mode != ModeScript {
		t.Errorf("config %+v", c)
	}
	for _, tc := range []struct {
		ov   Overrides
		want string
	}{
		{Overrides{GMSA: []string{"sync=MIMSyncGMSAsvc"}}, `want COMPONENT:NAME`},
		{Overrides{GMSA: []string{"portal:X"}}, `unknown or unconvertible component "portal"`},
		{Overrides{GMSA: []string{"syncx:X"}}, `expected one of sync, service, pam-rest, pam-component, pam-monitoring, sspr-registration, sspr-reset`},
		{Overrides{GMSA: []string{"sync:A", "sync:B"}}, "component sync named twice"},
		{Overrides{Installer: []string{"sync:"}}, "want COMPONENT:NAME"},
		{Overrides{RootKeyRule: "ten-hours"}, `root-key rule "ten-hours"`},
		{Overrides{Mode: "msi"}, `mode "msi": want change-mode or script`},
	} {
		err := tc.ov.Apply(&Config{})
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want ErrConfig containing %q", tc.ov, err, tc.want)
		}
	}
}
