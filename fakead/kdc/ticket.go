package kdc

import (
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/pac"
	"github.com/jcmturner/gokrb5/v8/types"
)

// ticketSpec is the content of a ticket about to be issued.
type ticketSpec struct {
	flags                           asn1.BitString
	cname, sname                    types.PrincipalName
	authTime, start, end, renewTill time.Time
	addrs                           []types.HostAddress
	authz                           types.AuthorizationData
}

// issue encrypts a ticket for svc with its current key of etype tktEt and kvno, with a fresh
// session key of etype sessEt.
func (k *KDC) issue(t ticketSpec, svc *Principal, tktEt, sessEt int32) (messages.Ticket, types.EncryptionKey, error) {
	skey, err := newSessionKey(k.rand(), sessEt)
	if err != nil {
		return messages.Ticket{}, types.EncryptionKey{}, err
	}
	part := messages.EncTicketPart{Flags: t.flags, Key: skey, CRealm: k.realm, CName: t.cname,
		Transited: messages.TransitedEncoding{TRType: 1, Contents: []byte{}},
		AuthTime:  t.authTime, StartTime: t.start, EndTime: t.end, RenewTill: t.renewTill,
		CAddr: t.addrs, AuthorizationData: t.authz}
	b := encodeEncTicketPart(nil, part)
	key, ok := longTermKey(svc, tktEt)
	if !ok {
		return messages.Ticket{}, types.EncryptionKey{}, fmt.Errorf("kdc: %s has no key of etype %d", svc.Name, tktEt)
	}
	ed, err := k.keys.seal(k.rand(), key, b, keyusage.KDC_REP_TICKET, int(svc.KVNO), true)
	if err != nil {
		return messages.Ticket{}, types.EncryptionKey{}, err
	}
	return messages.Ticket{TktVNO: 5, Realm: k.realm, SName: t.sname, EncPart: ed}, skey, nil
}

// adIfRelevant is AD-IF-RELEVANT (RFC 4120 5.2.6.1).
const adIfRelevant int32 = 1

// Snapshot is what a ticket's PAC says about its client at logon: its SID, the SIDs of its
// security groups (transitively, the primary group included) when the TGT was issued, and that
// time.
type Snapshot struct {
	SID      string
	Groups   []string
	AuthTime time.Time
}

// ErrNoSnapshot says a ticket carries no PAC.
var ErrNoSnapshot = errors.New("kdc: ticket carries no PAC")

// snapshotOf reads the PAC in a ticket's authorization data, checking its server signature with
// key (the key the ticket was encrypted with), with gokrb5's PAC decoder.
func snapshotOf(ad types.AuthorizationData, key types.EncryptionKey) (Snapshot, error) {
	b, ok := pacOf(ad)
	if !ok {
		return Snapshot{}, ErrNoSnapshot
	}
	var p pac.PACType
	if err := p.Unmarshal(b); err != nil {
		return Snapshot{}, fmt.Errorf("kdc: malformed PAC: %w", err)
	}
	if err := p.ProcessPACInfoBuffers(key, log.New(io.Discard, "", 0)); err != nil {
		return Snapshot{}, fmt.Errorf("kdc: PAC: %w", err)
	}
	v := p.KerbValidationInfo
	return Snapshot{SID: fmt.Sprintf("%s-%d", v.LogonDomainID.String(), v.UserID),
		Groups: v.GetGroupMembershipSIDs(), AuthTime: p.ClientInfo.ClientID.Time().UTC()}, nil
}

// TicketSnapshot decrypts a ticket (its DER encoding, as in a KDC reply or an AP-REQ) with the
// long-term key of the account it was issued to (krbtgt for a TGT, the service's for a service
// ticket) and returns the client's group snapshot from its PAC.
func TicketSnapshot(ticket []byte, key types.EncryptionKey) (Snapshot, error) {
	var t messages.Ticket
	if err := t.Unmarshal(ticket); err != nil {
		return Snapshot{}, fmt.Errorf("kdc: malformed ticket: %w", err)
	}
	if err := t.Decrypt(key); err != nil {
		return Snapshot{}, fmt.Errorf("kdc: ticket does not decrypt with the key given (etype %d, kvno %d): %w",
			t.EncPart.EType, t.EncPart.KVNO, err)
	}
	return snapshotOf(t.DecryptedEncPart.AuthorizationData, key)
}

// TicketGroups returns the group SIDs a ticket's PAC carries; see TicketSnapshot.
func TicketGroups(ticket []byte, key types.EncryptionKey) ([]string, error) {
	s, err := TicketSnapshot(ticket, key)
	if err != nil {
		return nil, err
	}
	return s.Groups, nil
}
