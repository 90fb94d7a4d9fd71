package host

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Kerberos probes for scenarios and tests: a client (a user, or a host) obtains a service ticket
// from a DC's in-process KDC; a host tries to decrypt it with the keys it derived from the
// passwords it holds.

// Ticket is a service ticket a client obtained.
type Ticket struct {
	SPN     string
	Client  string
	KVNO    int
	EType   int32
	EndTime time.Time
	der     []byte
	skew    time.Duration // the client's clock minus the world's: its AP-REQ authenticator's time
	msg     messages.Ticket
	session types.EncryptionKey
}

// Bytes is the ticket's DER encoding, as it travels in an AP-REQ.
func (t *Ticket) Bytes() []byte { return append([]byte(nil), t.der...) }

// Credential is the ticket with the session key the KDC gave its client: what the client needs to
// build an AP-REQ (an LDAP SASL bind, for instance).
func (t *Ticket) Credential() (messages.Ticket, types.EncryptionKey) { return t.msg, t.session }

// ClockSkew is the client's clock minus the world's when it got the ticket: the time its
// authenticators carry.
func (t *Ticket) ClockSkew() time.Duration { return t.skew }

func ticketOf(client string, st *kdc.ServiceTicket) (*Ticket, error) {
	b, err := st.Bytes()
	if err != nil {
		return nil, err
	}
	return &Ticket{SPN: st.Service, Client: client, KVNO: st.Ticket.EncPart.KVNO, EType: st.Ticket.EncPart.EType,
		EndTime: st.EndTime, der: b, msg: st.Ticket, session: st.SessionKey}, nil
}

// Client is a user logged on at a DC's KDC (kinit), able to ask for service tickets.
type Client struct {
	w        *sim.World
	dc       string
	name     string // sAMAccountName
	password string
	key      types.EncryptionKey
	creds    *kdc.Credentials
	etypes   []int32 // asked for in TGS-REQs (SetEtypes); nil: the KDC client's default
}

// SetEtypes sets the encryption types the client asks for in its service-ticket requests, in its
// order (a client host allowed RC4 only: []int32{kdc.EtypeRC4}); nil restores the default.
// Divergence: the logon (AS exchange) keeps the AES256 key; only service tickets follow etypes.
func (c *Client) SetEtypes(etypes []int32) {
	c.etypes = append([]int32(nil), etypes...)
	if c.creds != nil {
		c.creds.EType = c.etypes
	}
}

// Logon logs a user on at dc's KDC (kinit) with its password (the AES256 key with AD's salt) and returns
// the client. A KRB-ERROR comes back as *kdc.Error.
func Logon(w *sim.World, dc, name, password string) (*Client, error) {
	c := &Client{w: w, dc: strings.ToUpper(dc), password: password}
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		a, ok := d.Account(name)
		if !ok {
			return &kdc.Error{Exchange: "AS", Client: name, Code: 6, Text: "client not found"} // C_PRINCIPAL_UNKNOWN
		}
		c.name = a.SAMAccountName
		salt := a.Keys.Salt
		if salt == "" {
			salt = fakekds.Salt(d.DNSName(), a.SAMAccountName)
		}
		k, err := fakekds.KeysFromString(password, salt)
		if err != nil {
			return err
		}
		c.key = types.EncryptionKey{KeyType: kdc.EtypeAES256, KeyValue: k.AES256}
		return c.logon(now)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// LogonAccount logs an account on at dc's KDC with the AES256 key the directory stores for it,
// without its password: the scenario probes' client (`kerberos client=alice ...`), whose password
// a scenario need not know. An account without a password has no key: C_PRINCIPAL_UNKNOWN-like
// *kdc.Error from the KDC, or an error saying so.
// Divergence: a real client needs the password; the simulator reads the stored key.
func LogonAccount(w *sim.World, dc, name string) (*Client, error) {
	c := &Client{w: w, dc: strings.ToUpper(dc)}
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		a, ok := d.Account(name)
		if !ok {
			return &kdc.Error{Exchange: "AS", Client: name, Code: 6, Text: "client not found"} // C_PRINCIPAL_UNKNOWN
		}
		if len(a.Keys.AES256) == 0 {
			return fmt.Errorf("sim: %s has no password set, so no Kerberos key to log on with", a.SAMAccountName)
		}
		c.name = a.SAMAccountName
		c.key = types.EncryptionKey{KeyType: kdc.EtypeAES256, KeyValue: append([]byte(nil), a.Keys.AES256...)}
		return c.logon(now)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) logon(now time.Time) error {
	dc := c.w.DC(c.dc)
	if dc == nil || !dc.Running() {
		return &Error{Host: c.name, Op: "logon", Reason: ErrDCUnavailable}
	}
	k, err := c.w.Loop().KDC(dc)
	if err != nil {
		return err
	}
	creds, err := k.Logon(now, c.name, c.key)
	if err != nil {
		return err
	}
	c.creds = creds
	c.creds.EType = c.etypes
	c.w.Loop().Logf("%s logon at %s", c.name, c.dc)
	return nil
}

// ServiceTicket asks the client's DC for a ticket to spn (kvno), logging on again when the TGT
// has expired.
func (c *Client) ServiceTicket(spn string) (*Ticket, error) {
	var t *Ticket
	err := c.w.ExecOn(c.dc, func(now time.Time, d *fakead.Directory) error {
		if c.creds == nil || !now.Before(c.creds.EndTime) {
			if err := c.logon(now); err != nil {
				return err
			}
		}
		k, err := c.w.Loop().KDC(c.w.DC(c.dc))
		if err != nil {
			return err
		}
		st, err := k.ServiceTicket(now, c.creds, spn)
		if err != nil {
			c.w.Loop().Logf("%s ticket for %s: %v", c.name, spn, err)
			return err
		}
		t, err = ticketOf(c.name, st)
		if err == nil {
			c.w.Loop().Logf("%s ticket for %s: kvno %d etype %d", c.name, spn, t.KVNO, t.EType)
		}
		return err
	})
	return t, err
}

// ServiceTicket is the host, as a client with its machine account, asking its DC for a ticket to
// spn with its current TGT (and so its group snapshot).
func (h *Host) ServiceTicket(spn string) (*Ticket, error) {
	var t *Ticket
	err := h.Exec(func(now time.Time, dc *sim.DC) error {
		if err := h.ensureLogon(now, dc); err != nil {
			return err
		}
		k, err := h.w.Loop().KDC(dc)
		if err != nil {
			return err
		}
		st, err := k.ServiceTicketAt(now, h.clock(now), h.creds, spn)
		if err != nil {
			return skewErr(err)
		}
		t, err = ticketOf(h.sam, st)
		if t != nil {
			t.skew = h.skew
		}
		return err
	})
	return t, err
}

// Decrypted says which of a host's keys decrypted a ticket.
type Decrypted struct {
	Account  string // the account whose key worked: "ITFarm1$", or the host's own "WEB1$"
	Previous bool   // the gMSA's previous password's key (a ticket issued before a rotation)
	Client   string // cname@realm in the ticket
	Groups   []string
}

// String is a probe line: "ITFarm1$ (current password)".
func (x *Decrypted) String() string {
	which := "current password"
	if x.Previous {
		which = "previous password"
	}
	return fmt.Sprintf("%s (%s)", x.Account, which)
}

// DecryptTicket is the service side on this host: does a ticket decrypt, and is it within its
// lifetime, with the keys the host derived from the gMSA passwords it retrieved or cached
// (current and previous), or its own machine keys? No key working is a *Error with
// ErrNoKeyDecrypts wrapping the *kdc.Error (KRB_AP_ERR_MODIFIED); a ticket out of its lifetime
// is ErrTicketTime wrapping KRB_AP_ERR_TKT_EXPIRED or KRB_AP_ERR_TKT_NYV.
func (h *Host) DecryptTicket(t *Ticket) (*Decrypted, error) {
	var out *Decrypted
	err := h.w.Exec(func(now time.Time) error {
		var keys []types.EncryptionKey
		type owner struct {
			account  string
			previous bool
		}
		var owners []owner
		for _, k := range slices.Sorted(maps.Keys(h.gmsa)) {
			c := h.gmsa[k]
			for _, key := range c.cur {
				keys, owners = append(keys, key), append(owners, owner{c.sam, false})
			}
			for _, key := range c.prevKeys {
				keys, owners = append(keys, key), append(owners, owner{c.sam, true})
			}
		}
		for _, key := range h.keys {
			keys, owners = append(keys, key), append(owners, owner{h.sam, false})
		}
		// The AP-REQ is sent now by the client, stamped with its clock; the host checks it
		// against its own.
		acc, err := kdc.AcceptTicketAt(h.clock(now), now.Add(t.skew), t.der, keys...)
		if err != nil {
			h.w.Loop().Logf("host %s cannot decrypt the ticket for %s (kvno %d): %v", h.name, t.SPN, t.KVNO, err)
			reason := ErrNoKeyDecrypts
			var ke *kdc.Error
			switch {
			case errors.As(err, &ke) && (ke.Code == 32 || ke.Code == 33): // KRB_AP_ERR_TKT_EXPIRED, _NYV
				reason = ErrTicketTime
			case errors.As(err, &ke) && ke.Code == 37: // KRB_AP_ERR_SKEW
				reason = ErrClockSkew
			}
			return &Error{Host: h.name, Op: "decrypt ticket for " + t.SPN, Reason: reason, Err: err}
		}
		o := owners[acc.KeyIndex]
		out = &Decrypted{Account: o.account, Previous: o.previous, Client: acc.Client, Groups: acc.Snapshot.Groups}
		h.w.Loop().Logf("host %s decrypts the ticket for %s (kvno %d) with %s", h.name, t.SPN, t.KVNO, out)
		return nil
	})
	return out, err
}

// Accept is a running workload receiving an AP-REQ's ticket: the workload must be running, and
// the ticket must decrypt with the current or previous key of the account it runs as.
func (h *Host) Accept(kind WorkloadKind, name string, t *Ticket) (*Decrypted, error) {
	wl, ok := h.Workload(kind, name)
	if !ok {
		return nil, &Error{Host: h.name, Op: "accept " + name, Reason: ErrUnknownService}
	}
	if wl.State != StateRunning {
		return nil, &Error{Host: h.name, Op: "accept " + name, Reason: ErrServiceNotReady}
	}
	x, err := h.DecryptTicket(t)
	if err != nil {
		return nil, err
	}
	want := wl.gmsa
	if want == "" {
		want = h.sam
	}
	if !strings.EqualFold(x.Account, want) {
		return nil, &Error{Host: h.name, Op: "accept " + name, Reason: ErrNoKeyDecrypts,
			Err: errors.New("the ticket is for " + x.Account + ", the service runs as " + wl.Account)}
	}
	return x, nil
}
