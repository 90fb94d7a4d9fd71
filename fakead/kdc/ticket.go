package kdc

import (
	"errors"
	"fmt"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
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
	b, err := marshalApp(part, asnAppTag.EncTicketPart)
	if err != nil {
		return messages.Ticket{}, types.EncryptionKey{}, err
	}
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

// ADTypeGroupSnapshot is the private ad-type (inside AD-IF-RELEVANT) that carries a logon's group
// snapshot. Negative ad-types are reserved for local use (RFC 4120 7.5.4).
// Divergence: AD carries the groups in a PAC (AD-WIN2K-PAC, ad-type 128, [MS-PAC]) with
// KERB_VALIDATION_INFO group RIDs, extra SIDs and KDC/server signatures; this KDC carries a plain
// list of SID strings, unsigned. Clients ignore both (AD-IF-RELEVANT); only the simulated hosts
// read it, through TicketGroups.
const ADTypeGroupSnapshot int32 = -17730

// adIfRelevant is AD-IF-RELEVANT (RFC 4120 5.2.6.1).
const adIfRelevant int32 = 1

// Snapshot is what a ticket says about its client at logon: its SID, the SIDs of its security
// groups (transitively) at the time the TGT was issued, and that time.
type Snapshot struct {
	SID      string    `asn1:"explicit,tag:0"`
	Groups   []string  `asn1:"explicit,tag:1"`
	AuthTime time.Time `asn1:"generalized,explicit,tag:2"`
}

func snapshotAuthData(s Snapshot) (types.AuthorizationData, error) {
	if s.Groups == nil {
		s.Groups = []string{}
	}
	b, err := asn1.Marshal(s)
	if err != nil {
		return nil, err
	}
	inner, err := asn1.Marshal(types.AuthorizationData{{ADType: ADTypeGroupSnapshot, ADData: b}})
	if err != nil {
		return nil, err
	}
	return types.AuthorizationData{{ADType: adIfRelevant, ADData: inner}}, nil
}

// ErrNoSnapshot says a ticket carries no group snapshot (it was not issued by this KDC).
var ErrNoSnapshot = errors.New("kdc: ticket carries no group snapshot")

// snapshotOf finds the snapshot in a ticket's authorization data.
func snapshotOf(ad types.AuthorizationData) (Snapshot, error) {
	for _, e := range ad {
		if e.ADType != adIfRelevant {
			continue
		}
		var inner types.AuthorizationData
		if _, err := asn1.Unmarshal(e.ADData, &inner); err != nil {
			continue
		}
		for _, x := range inner {
			if x.ADType != ADTypeGroupSnapshot {
				continue
			}
			var s Snapshot
			rest, err := asn1.Unmarshal(x.ADData, &s)
			if err != nil || len(rest) != 0 {
				return Snapshot{}, fmt.Errorf("kdc: malformed group snapshot: %v", err)
			}
			return s, nil
		}
	}
	return Snapshot{}, ErrNoSnapshot
}

// TicketSnapshot decrypts a ticket (its DER encoding, as in a KDC reply or an AP-REQ) with the
// long-term key of the account it was issued to (krbtgt for a TGT, the service's for a service
// ticket) and returns the client's group snapshot.
func TicketSnapshot(ticket []byte, key types.EncryptionKey) (Snapshot, error) {
	var t messages.Ticket
	if err := t.Unmarshal(ticket); err != nil {
		return Snapshot{}, fmt.Errorf("kdc: malformed ticket: %w", err)
	}
	if err := t.Decrypt(key); err != nil {
		return Snapshot{}, fmt.Errorf("kdc: ticket does not decrypt with the key given (etype %d, kvno %d): %w",
			t.EncPart.EType, t.EncPart.KVNO, err)
	}
	return snapshotOf(t.DecryptedEncPart.AuthorizationData)
}

// TicketGroups returns the group SIDs a ticket carries; see TicketSnapshot.
func TicketGroups(ticket []byte, key types.EncryptionKey) ([]string, error) {
	s, err := TicketSnapshot(ticket, key)
	if err != nil {
		return nil, err
	}
	return s.Groups, nil
}
