package kdc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/ad"
)

// The PAC ([MS-PAC]): the group snapshot of a logon travels as AD carries it, an AD-WIN2K-PAC
// inside AD-IF-RELEVANT, with KERB_VALIDATION_INFO (user RID, primary group, domain group RIDs,
// other SIDs as ExtraSids), PAC_CLIENT_INFO and the server and KDC signatures. The TGS copies the
// TGT's PAC into the service ticket and signs it again for the service.
//
// Divergence: the PAC has no UPN_DNS_INFO, PAC_ATTRIBUTES_INFO, PAC_REQUESTOR or ticket
// signature buffers (Windows 2016+ adds them); KERB_VALIDATION_INFO leaves the profile fields,
// PasswordLastSet and the logon counters empty, and the PAC is included whether or not the
// client sent PA-PAC-REQUEST.

// PAC buffer types ([MS-PAC] 2.4).
const (
	pacLogonInfo      = 1
	pacServerChecksum = 6
	pacKDCChecksum    = 7
	pacClientInfo     = 10
)

const adWin2kPAC int32 = 128

// pacLogon is what a PAC says about a logon.
type pacLogon struct {
	authTime        time.Time
	name            string // sAMAccountName
	userSID         string
	primaryGroupRID uint32
	groups          []string // SIDs of the security groups (tokenGroups), the primary group included
	uac             int64
	domain          string // NetBIOS domain name
	server          string // the DC's name
}

// samAccountControl maps userAccountControl to the SAM account-control bits KERB_VALIDATION_INFO
// carries ([MS-SAMR] 2.2.1.12).
func samAccountControl(uac int64) uint32 {
	var out uint32
	for _, m := range []struct {
		ldap int64
		sam  uint32
	}{{0x2, 0x1}, {0x200, 0x10}, {0x1000, 0x80}, {0x2000, 0x100}, {0x10000, 0x200}} {
		if uac&m.ldap != 0 {
			out |= m.sam
		}
	}
	return out
}

// encodeLogonInfo is the NDR KERB_VALIDATION_INFO of l.
func encodeLogonInfo(l pacLogon) ([]byte, error) {
	i := strings.LastIndexByte(l.userSID, '-')
	if i < 0 {
		return nil, fmt.Errorf("kdc: malformed SID %q", l.userSID)
	}
	domSID, err := ad.ParseSID(l.userSID[:i])
	if err != nil {
		return nil, err
	}
	user, err := ad.ParseSID(l.userSID)
	if err != nil {
		return nil, err
	}
	var rids []uint32
	var extra []ad.SID
	prefix := l.userSID[:i+1]
	for _, g := range l.groups {
		s, err := ad.ParseSID(g)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(g, prefix) && !strings.Contains(g[len(prefix):], "-") {
			rids = append(rids, s.RID())
		} else {
			extra = append(extra, s)
		}
	}
	const groupAttrs = 7 // SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED
	var flags uint32
	if len(extra) > 0 {
		flags |= 0x20 // EXTRA_SIDS
	}
	name, domain, server := utf16Of(l.name), utf16Of(l.domain), utf16Of(l.server)
	w := &ndrWriter{}
	w.pointer(true) // the top-level KERB_VALIDATION_INFO
	w.filetime(fileTime(l.authTime))
	w.filetime(neverFileTime) // LogoffTime
	w.filetime(neverFileTime) // KickOffTime
	w.filetime(0)             // PasswordLastSet
	w.filetime(0)             // PasswordCanChange
	w.filetime(neverFileTime) // PasswordMustChange
	w.unicodeString(name)     // EffectiveName
	for j := 0; j < 5; j++ {  // FullName, LogonScript, ProfilePath, HomeDirectory, HomeDirectoryDrive
		w.unicodeString(nil)
	}
	w.u16(0) // LogonCount
	w.u16(0) // BadPasswordCount
	w.u32(user.RID())
	w.u32(l.primaryGroupRID)
	w.u32(uint32(len(rids)))
	w.pointer(len(rids) > 0)
	w.u32(flags)
	w.b = append(w.b, make([]byte, 16)...) // UserSessionKey
	w.unicodeString(server)                // LogonServer
	w.unicodeString(domain)                // LogonDomainName
	w.pointer(true)                        // LogonDomainId
	w.u32(0)                               // Reserved1
	w.u32(0)
	w.u32(samAccountControl(l.uac))
	w.u32(0)      // SubAuthStatus
	w.filetime(0) // LastSuccessfulILogon
	w.filetime(0) // LastFailedILogon
	w.u32(0)      // FailedILogonCount
	w.u32(0)      // Reserved3
	w.u32(uint32(len(extra)))
	w.pointer(len(extra) > 0) // ExtraSids
	w.pointer(false)          // ResourceGroupDomainSid
	w.u32(0)                  // ResourceGroupCount
	w.pointer(false)          // ResourceGroupIds
	// Deferred referents, in the order of their pointers.
	w.unicodeBuffer(name)
	for j := 0; j < 5; j++ {
		w.unicodeBuffer(nil)
	}
	if len(rids) > 0 {
		w.u32(uint32(len(rids)))
		for _, r := range rids {
			w.u32(r)
			w.u32(groupAttrs)
		}
	}
	w.unicodeBuffer(server)
	w.unicodeBuffer(domain)
	w.sid(domSID)
	if len(extra) > 0 {
		w.u32(uint32(len(extra)))
		for range extra {
			w.pointer(true)
			w.u32(groupAttrs)
		}
		for _, s := range extra {
			w.sid(s)
		}
	}
	return w.stream(), nil
}

// encodeClientInfo is PAC_CLIENT_INFO ([MS-PAC] 2.7).
func encodeClientInfo(authTime time.Time, name string) []byte {
	n := utf16Of(name)
	b := binary.LittleEndian.AppendUint64(nil, fileTime(authTime))
	b = binary.LittleEndian.AppendUint16(b, uint16(2*len(n)))
	for _, c := range n {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

type pacBuffer struct {
	typ  uint32
	data []byte
}

// checksumType is the PAC signature type for a key ([MS-PAC] 2.8): HMAC-SHA1-96 for AES,
// KERB_CHECKSUM_HMAC_MD5 for RC4; and the signature's size.
func checksumType(et int32) (int32, int, error) {
	switch et {
	case EtypeAES256:
		return 16, 12, nil
	case EtypeAES128:
		return 15, 12, nil
	case EtypeRC4:
		return -138, 16, nil
	}
	return 0, 0, fmt.Errorf("kdc: no PAC signature for etype %d", et)
}

// pacChecksum signs data with key; c memoises the checksum keys of the krbtgt and service keys,
// which sign every PAC.
func (c *keyCache) pacChecksum(key types.EncryptionKey, data []byte) ([]byte, error) {
	ct, _, err := checksumType(key.KeyType)
	if err != nil {
		return nil, err
	}
	e, err := crypto.GetChksumEtype(ct)
	if err != nil {
		return nil, err
	}
	if isAES(key.KeyType) {
		// HMAC-SHA1-96 with Kc, as gokrb5's GetChecksumHash computes it, without deriving Kc anew.
		kc, err := c.kc(e, key.KeyValue, keyusage.KERB_NON_KERB_CKSUM_SALT)
		if err != nil {
			return nil, err
		}
		return kc.sum(nil, data, e.GetHMACBitLength()/8), nil
	}
	return e.GetChecksumHash(key.KeyValue, data, keyusage.KERB_NON_KERB_CKSUM_SALT)
}

func align8(n int) int { return (n + 7) &^ 7 }

// assemblePAC lays out PACTYPE with bufs followed by the server signature (with server, the key
// of the ticket the PAC goes in) and the KDC signature (with kdc, the krbtgt key).
func (c *keyCache) assemblePAC(bufs []pacBuffer, server, kdc types.EncryptionKey) ([]byte, error) {
	sct, ssz, err := checksumType(server.KeyType)
	if err != nil {
		return nil, err
	}
	kct, ksz, err := checksumType(kdc.KeyType)
	if err != nil {
		return nil, err
	}
	all := append(append([]pacBuffer(nil), bufs...),
		pacBuffer{pacServerChecksum, binary.LittleEndian.AppendUint32(make([]byte, 0, 4+ssz), uint32(sct))},
		pacBuffer{pacKDCChecksum, binary.LittleEndian.AppendUint32(make([]byte, 0, 4+ksz), uint32(kct))})
	all[len(all)-2].data = append(all[len(all)-2].data, make([]byte, ssz)...)
	all[len(all)-1].data = append(all[len(all)-1].data, make([]byte, ksz)...)
	off := align8(8 + 16*len(all))
	offsets := make([]int, len(all))
	for i, b := range all {
		offsets[i] = off
		off = align8(off + len(b.data))
	}
	out := make([]byte, off)
	binary.LittleEndian.PutUint32(out, uint32(len(all)))
	binary.LittleEndian.PutUint32(out[4:], 0) // Version
	for i, b := range all {
		h := out[8+16*i:]
		binary.LittleEndian.PutUint32(h, b.typ)
		binary.LittleEndian.PutUint32(h[4:], uint32(len(b.data)))
		binary.LittleEndian.PutUint64(h[8:], uint64(offsets[i]))
		copy(out[offsets[i]:], b.data)
	}
	ssig, err := c.pacChecksum(server, out)
	if err != nil {
		return nil, err
	}
	so := offsets[len(all)-2] + 4
	copy(out[so:so+ssz], ssig)
	ksig, err := c.pacChecksum(kdc, ssig)
	if err != nil {
		return nil, err
	}
	ko := offsets[len(all)-1] + 4
	copy(out[ko:ko+ksz], ksig)
	return out, nil
}

var errMalformedPAC = errors.New("kdc: malformed PAC")

// pacBuffers lists a PAC's buffers other than the signatures (for signing it again).
func pacBuffers(pac []byte) ([]pacBuffer, error) {
	if len(pac) < 8 {
		return nil, errMalformedPAC
	}
	n := int(binary.LittleEndian.Uint32(pac))
	if n > 64 || len(pac) < 8+16*n {
		return nil, errMalformedPAC
	}
	var out []pacBuffer
	for i := 0; i < n; i++ {
		h := pac[8+16*i:]
		typ, size, off := binary.LittleEndian.Uint32(h), uint64(binary.LittleEndian.Uint32(h[4:])), binary.LittleEndian.Uint64(h[8:])
		if off > uint64(len(pac)) || size > uint64(len(pac))-off {
			return nil, errMalformedPAC
		}
		if typ == pacServerChecksum || typ == pacKDCChecksum {
			continue
		}
		out = append(out, pacBuffer{typ, append([]byte(nil), pac[off:off+size]...)})
	}
	return out, nil
}

// pacAuthData wraps a PAC as AD puts it in a ticket: AD-IF-RELEVANT { AD-WIN2K-PAC }.
func pacAuthData(pac []byte) (types.AuthorizationData, error) {
	inner := derAuthData(types.AuthorizationData{{ADType: adWin2kPAC, ADData: pac}})
	return types.AuthorizationData{{ADType: adIfRelevant, ADData: inner}}, nil
}

// pacOf finds the PAC in a ticket's authorization data.
func pacOf(ad types.AuthorizationData) ([]byte, bool) {
	for _, e := range ad {
		if e.ADType != adIfRelevant {
			continue
		}
		var inner types.AuthorizationData
		if _, err := asn1.Unmarshal(e.ADData, &inner); err != nil {
			continue
		}
		for _, x := range inner {
			if x.ADType == adWin2kPAC {
				return x.ADData, true
			}
		}
	}
	return nil, false
}

// newPAC is the PAC of a logon, signed for the ticket's key (server) and krbtgt's (kdc).
func (c *keyCache) newPAC(l pacLogon, server, kdc types.EncryptionKey) (types.AuthorizationData, error) {
	li, err := encodeLogonInfo(l)
	if err != nil {
		return nil, err
	}
	pac, err := c.assemblePAC([]pacBuffer{{pacLogonInfo, li}, {pacClientInfo, encodeClientInfo(l.authTime, l.name)}}, server, kdc)
	if err != nil {
		return nil, err
	}
	return pacAuthData(pac)
}

// resignPAC copies the PAC of a TGT's authorization data for a service ticket, signed with the
// service's key. Without a PAC in the TGT there is none in the service ticket.
func (c *keyCache) resignPAC(ad types.AuthorizationData, server, kdc types.EncryptionKey) (types.AuthorizationData, error) {
	pac, ok := pacOf(ad)
	if !ok {
		return nil, nil
	}
	bufs, err := pacBuffers(pac)
	if err != nil {
		return nil, err
	}
	out, err := c.assemblePAC(bufs, server, kdc)
	if err != nil {
		return nil, err
	}
	return pacAuthData(out)
}
