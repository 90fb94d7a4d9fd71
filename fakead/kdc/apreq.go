package kdc

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// The service side of an AP exchange (RFC 4120 3.2), as an LDAP server accepting a SASL GSSAPI
// or GSS-SPNEGO bind runs it: the AP-REQ's ticket decrypted with the service's keys, its
// authenticator with the ticket's session key, the client's clock checked against the service's
// (the world's) time, and the AP-REP of mutual authentication built with the world's randomness.
// Plus the RFC 3961 encryption an RFC 4121 sealed wrap token needs, with a caller-supplied
// confounder source (gokrb5's own draws from crypto/rand).

// GSS checksum flags (RFC 4121 4.1.1.1), carried in the authenticator's checksum of type 0x8003.
const (
	GSSFlagDeleg    = 1
	GSSFlagMutual   = 2
	GSSFlagReplay   = 4
	GSSFlagSequence = 8
	GSSFlagConf     = 16
	GSSFlagInteg    = 32
)

// checksumGSS is the authenticator checksum type of RFC 4121 4.1.1.
const checksumGSS = 0x8003

// APAccepted is an AP-REQ a service accepted: the ticket's client and PAC snapshot, and what the
// service needs for the AP-REP and the per-message tokens that follow.
type APAccepted struct {
	Accepted
	SessionKey types.EncryptionKey // the ticket's session key
	// Subkey is the authenticator's subkey (KeyType 0 when the client sent none).
	Subkey    types.EncryptionKey
	SeqNumber int64 // the authenticator's initial sequence number (the initiator's)
	CTime     time.Time
	Cusec     int
	// GSSFlags are the flags of the authenticator's GSS checksum (RFC 4121 4.1.1.1); HasGSS says the
	// authenticator carried one (a Kerberos-only AP-REQ does not).
	GSSFlags uint32
	HasGSS   bool
	// MutualRequired is the AP-REQ's mutual-required option.
	MutualRequired bool
}

// ContextKey is the key the per-message tokens of a context use when the acceptor asserts no
// subkey: the initiator's subkey, or else the session key (RFC 4121 2).
func (a *APAccepted) ContextKey() types.EncryptionKey {
	if a.Subkey.KeyType != 0 && len(a.Subkey.KeyValue) > 0 {
		return a.Subkey
	}
	return a.SessionKey
}

// apErr is a KRB_AP_ERR_* failure of an AP exchange.
func apErr(code int32, client, svc, text string) *Error {
	return &Error{Exchange: "AP", Client: client, Service: svc, Code: code, Text: text}
}

// AcceptAPReq decrypts and checks an AP-REQ (DER, without GSS framing) at the service's time now,
// with the first of keys that decrypts its ticket (the service's current key, then its previous
// ones). Errors are *Error: KRB_AP_ERR_BAD_INTEGRITY (31) for a malformed message,
// KRB_AP_ERR_MODIFIED (41) when no key decrypts the ticket or the session key does not decrypt the
// authenticator, KRB_AP_ERR_BADMATCH (36) when the authenticator names another client,
// KRB_AP_ERR_SKEW (37), KRB_AP_ERR_TKT_EXPIRED (32), KRB_AP_ERR_TKT_NYV (33).
//
// Divergence: no replay cache (RFC 4120 3.2.3); an authenticator replayed within the skew is
// accepted again. Channel bindings in the GSS checksum are not checked.
func AcceptAPReq(now time.Time, apReq []byte, keys ...types.EncryptionKey) (a *APAccepted, err error) {
	defer func() {
		if r := recover(); r != nil { // gokrb5's decoders are not fuzzed; a panic is a malformed message
			a, err = nil, apErr(31, "", "", fmt.Sprintf("malformed AP-REQ: %v", r))
		}
	}()
	var req messages.APReq
	if err := req.Unmarshal(apReq); err != nil {
		return nil, apErr(31, "", "", "malformed AP-REQ")
	}
	t := req.Ticket
	svc := principalString(t.SName, t.Realm)
	for i, key := range keys {
		if key.KeyType != t.EncPart.EType || t.Decrypt(key) != nil {
			continue
		}
		p := t.DecryptedEncPart
		client := principalString(p.CName, p.CRealm)
		if err := req.DecryptAuthenticator(p.Key); err != nil {
			return nil, apErr(41, client, svc, "the authenticator does not decrypt with the ticket's session key")
		}
		au := req.Authenticator
		// Windows compares principal and realm names case-insensitively: impacket's
		// LDAPConnection.kerberosLogin writes the realm as given ("contoso.com") into the
		// authenticator of a ticket whose client realm is CONTOSO.COM.
		if !strings.EqualFold(principalString(au.CName, au.CRealm), client) {
			return nil, apErr(36, client, svc, "the authenticator names "+principalString(au.CName, au.CRealm))
		}
		ctime := au.CTime.Add(time.Duration(au.Cusec) * time.Microsecond)
		switch {
		case skewed(now.UTC(), ctime.UTC(), DefaultMaxSkew):
			return nil, apErr(37, client, svc, "clock skew too great")
		case !now.Before(p.EndTime.Add(DefaultMaxSkew)):
			return nil, apErr(32, client, svc, "ticket expired")
		case !p.StartTime.IsZero() && p.StartTime.Sub(now) > DefaultMaxSkew:
			return nil, apErr(33, client, svc, "ticket not yet valid")
		}
		snap, err := snapshotOf(p.AuthorizationData, key)
		if err != nil && err != ErrNoSnapshot {
			return nil, err
		}
		acc := &APAccepted{
			Accepted:   Accepted{Client: client, Snapshot: snap, EndTime: p.EndTime, KeyIndex: i},
			SessionKey: p.Key, Subkey: au.SubKey, SeqNumber: au.SeqNumber, CTime: au.CTime, Cusec: au.Cusec,
			MutualRequired: types.IsFlagSet(&req.APOptions, flags.APOptionMutualRequired),
		}
		if c := au.Cksum; c.CksumType == checksumGSS {
			if len(c.Checksum) < 24 || binary.LittleEndian.Uint32(c.Checksum[:4]) != 16 {
				return nil, apErr(31, client, svc, "malformed GSS checksum in the authenticator")
			}
			acc.GSSFlags, acc.HasGSS = binary.LittleEndian.Uint32(c.Checksum[20:24]), true
		}
		return acc, nil
	}
	return nil, apErr(41, "", svc, fmt.Sprintf("no key given decrypts the ticket (etype %d, kvno %d)", t.EncPart.EType, t.EncPart.KVNO))
}

// NewSubkey draws a key of etype et from rnd: an acceptor subkey for the AP-REP.
func NewSubkey(rnd io.Reader, et int32) (types.EncryptionKey, error) { return newSessionKey(rnd, et) }

// APRep builds the AP-REP (DER) answering a: the authenticator's ctime and cusec echoed, the
// acceptor's subkey (none when subkey.KeyType is 0) and initial sequence number, encrypted with the
// session key (key usage 12), the confounder drawn from rnd.
func (a *APAccepted) APRep(rnd io.Reader, subkey types.EncryptionKey, seq int64) ([]byte, error) {
	plain := encodeEncAPRepPart(a.CTime, a.Cusec, subkey, seq)
	ed, err := new(keyCache).seal(rnd, a.SessionKey, plain, keyusage.AP_REP_ENCPART, 0, false) // used once: nothing to memoise
	if err != nil {
		return nil, fmt.Errorf("kdc: AP-REP: %w", err)
	}
	return encodeAPRep(ed), nil
}
