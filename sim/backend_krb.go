package sim

import (
	"encoding/binary"
	"io"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// The DC's Kerberos acceptor for SASL GSSAPI / GSS-SPNEGO binds, and the WhoAmI authzId.

var (
	_ ldapsrv.KerberosAcceptor = (*backend)(nil)
	_ ldapsrv.WhoAmIer         = (*backend)(nil)
)

// sidEveryone is the well-known Everyone SID every token carries, as fakead's do.
const sidEveryone = "S-1-1-0"

// AcceptKerberos checks an AP-REQ with the keys of the DC's own computer account (current, then
// previous) — the keys the world's directory holds, with the ticket's times and the
// authenticator's skew checked against the wire's clock (Clock.Wire) — as the DC's LDAP service does: a ticket for ldap/<dc fqdn> or any
// other SPN of the account. The bound caller is the ticket's client with the groups in its PAC —
// the token of the logon, not the directory's groups now. The acceptor subkey and the initial
// sequence number of the AP-REP come from the world's stream "ldap/<DC>/kerberos".
func (b *backend) AcceptKerberos(apReq []byte) (*ldapsrv.KerberosContext, error) {
	rnd := b.w.Rand("ldap/" + strings.ToUpper(b.dc) + "/kerberos")
	var ctx *ldapsrv.KerberosContext
	var acceptErr error
	err := b.w.ExecOn(b.dc, func(now time.Time, d *fakead.Directory) error {
		keys, err := dcKeys(now, d, b.dc)
		if err != nil {
			return err
		}
		a, err := kdc.AcceptAPReq(b.w.clock.Wire(), apReq, keys...)
		if err != nil {
			acceptErr = err
			return nil
		}
		ctx, err = kerberosContext(d, a, rnd)
		return err
	})
	if acceptErr != nil {
		return nil, acceptErr
	}
	return ctx, asModelError("bind", "", err)
}

// dcKeys are the DC computer account's long-term keys, current ones first.
func dcKeys(now time.Time, d *fakead.Directory, dc string) ([]types.EncryptionKey, error) {
	p, err := kdc.NewDirectory(d).Service(now, []string{strings.ToUpper(dc) + "$"})
	if err != nil {
		return nil, &fakead.Error{Code: fakead.Other, Op: "bind", Diag: "the DC's computer account " + dc + "$ has no Kerberos keys: " + err.Error()}
	}
	var keys []types.EncryptionKey
	for _, set := range []map[int32][]byte{p.Keys, p.PreviousKeys} {
		for _, et := range []int32{kdc.EtypeAES256, kdc.EtypeAES128, kdc.EtypeRC4} {
			if k, ok := set[et]; ok {
				keys = append(keys, types.EncryptionKey{KeyType: et, KeyValue: k})
			}
		}
	}
	if len(keys) == 0 {
		return nil, &fakead.Error{Code: fakead.Other, Op: "bind", Diag: "the DC's computer account " + dc + "$ has no Kerberos keys"}
	}
	return keys, nil
}

// kerberosContext builds the bound caller from the ticket's PAC and the AP-REP.
func kerberosContext(d *fakead.Directory, a *kdc.APAccepted, rnd io.Reader) (*ldapsrv.KerberosContext, error) {
	c, err := ticketCaller(d, a)
	if err != nil {
		return nil, err
	}
	ctxKey := a.ContextKey()
	subkey, err := kdc.NewSubkey(rnd, ctxKey.KeyType)
	if err != nil {
		return nil, err
	}
	var seqb [4]byte
	if _, err := io.ReadFull(rnd, seqb[:]); err != nil {
		return nil, err
	}
	seq := int64(binary.BigEndian.Uint32(seqb[:]) & 0x3fffffff)
	rep, err := a.APRep(rnd, subkey, seq)
	if err != nil {
		return nil, err
	}
	return &ldapsrv.KerberosContext{Caller: c, Client: a.Client, APRep: rep, AcceptorSubkey: subkey,
		ServerSeq: uint64(seq), InitiatorKey: ctxKey, GSSFlags: a.GSSFlags}, nil
}

// KerberosBind is the DC's LDAP service accepting a Kerberos bind from inside the loop — what
// AcceptKerberos does for a bind over a socket: the AP-REQ checked with the keys of dc's own
// account at now (clock skew included), the caller the ticket's client with the groups of its
// PAC. encrypted says whether the connection is sealed (or TLS). Member hosts read their gMSAs
// through it.
func (l Loop) KerberosBind(dc *DC, now time.Time, apReq []byte, encrypted bool) (fakead.Caller, error) {
	d := dc.Directory()
	keys, err := dcKeys(now, d, dc.Name())
	if err != nil {
		return fakead.Caller{}, err
	}
	a, err := kdc.AcceptAPReq(now, apReq, keys...)
	if err != nil {
		return fakead.Caller{}, err
	}
	c, err := ticketCaller(d, a)
	c.Encrypted = encrypted
	return c, err
}

// ticketCaller is the caller a DC binds for an accepted ticket: its client with the PAC's groups.
func ticketCaller(d *fakead.Directory, a *kdc.APAccepted) (fakead.Caller, error) {
	name, _, _ := strings.Cut(a.Client, "@")
	acct, ok := d.Account(name)
	if !ok {
		// The ticket is good but its client is gone (deleted since the logon): AD cannot map it.
		return fakead.Caller{}, &fakead.Error{Code: fakead.InvalidCredentials, Op: "bind", DN: name,
			Diag: "8009030C: LdapErr: DSID-0C0906B5, comment: AcceptSecurityContext error, data 0, v4563"}
	}
	c := fakead.Caller{DN: acct.DN, SID: acct.SID.String()}
	if s := a.Snapshot; s.SID != "" {
		c.SID = s.SID
		c.Token = append(append([]string{s.SID}, s.Groups...), sidEveryone, ad.SIDAuthenticatedUsers)
	} else {
		// Divergence: a ticket without a PAC (none of this KDC's) gets no groups at all.
		c.Token = []string{c.SID, sidEveryone, ad.SIDAuthenticatedUsers}
	}
	return c, nil
}

// WhoAmI answers as a DC does: "u:" and the caller's down-level logon name, CONTOSO\WEB1$.
func (b *backend) WhoAmI(c fakead.Caller) string {
	out := "dn:" + c.DN
	_ = b.w.ExecOn(b.dc, func(now time.Time, d *fakead.Directory) error {
		if a, ok := d.Account(c.DN); ok && a.SAMAccountName != "" {
			out = "u:" + d.NetBIOSName() + `\` + a.SAMAccountName
		}
		return nil
	})
	return out
}
