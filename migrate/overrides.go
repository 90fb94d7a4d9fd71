package migrate

import (
	"fmt"
	"strings"
)

// Overrides are the operator's choices on top of what the inventory says, in the form the command
// line (`gmsasim migrate --gmsa ... --installer ...`) and the scenario directive (`migrate plan
// gmsa=... installer=...`) share: the gMSAs' and groups' names, what will be typed in the
// installers, the reading of the root-key rule the DCs apply.
type Overrides struct {
	// GMSA and Installer are "COMPONENT:NAME" lists (ParseComponentNames): the gMSA of a component
	// (sync:MIMSyncGMSAsvc) and the account typed in its installer (sync:CONTOSO\MIMSyncGMSA$).
	GMSA, Installer     []string
	SyncServersGroup    string
	ServiceServersGroup string
	RootKeyRule         string
	Mode                string // change-mode (default) or script
}

// Under is o with what top gives in its place: top's lists and values win where top has them.
func (o Overrides) Under(top Overrides) Overrides {
	if top.GMSA != nil {
		o.GMSA = top.GMSA
	}
	if top.Installer != nil {
		o.Installer = top.Installer
	}
	for _, p := range []struct {
		dst *string
		src string
	}{{&o.SyncServersGroup, top.SyncServersGroup},
		{&o.ServiceServersGroup, top.ServiceServersGroup}, {&o.RootKeyRule, top.RootKeyRule}, {&o.Mode, top.Mode}} {
		if p.src != "" {
			*p.dst = p.src
		}
	}
	return o
}

// Apply sets the overrides in c. Unknown components, malformed items and unknown rules are
// refused with what was expected.
func (o Overrides) Apply(c *Config) error {
	names, err := ParseComponentNames(o.GMSA)
	if err != nil {
		return fmt.Errorf("gmsa: %w", err)
	}
	inst, err := ParseComponentNames(o.Installer)
	if err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	if len(names)+len(inst) > 0 && c.Accounts == nil {
		c.Accounts = map[Component]AccountSpec{}
	}
	for comp, n := range names {
		a := c.Accounts[comp]
		a.Name = n
		c.Accounts[comp] = a
	}
	for comp, n := range inst {
		a := c.Accounts[comp]
		a.Installer = n
		c.Accounts[comp] = a
	}
	if o.SyncServersGroup != "" {
		c.SyncServersGroup = o.SyncServersGroup
	}
	if o.ServiceServersGroup != "" {
		c.ServiceServersGroup = o.ServiceServersGroup
	}
	if o.RootKeyRule != "" {
		r, err := ParseRootKeyRule(strings.ToLower(o.RootKeyRule))
		if err != nil {
			return err
		}
		c.RootKeyRule = r
	}
	if o.Mode != "" {
		m, err := ParseMode(strings.ToLower(o.Mode))
		if err != nil {
			return err
		}
		c.Mode = m
	}
	return nil
}
