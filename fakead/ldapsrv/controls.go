package ldapsrv

import (
	"fmt"

	goldap "github.com/lor00x/goldap/message"

	"github.com/gmsasim/gmsasim/fakead"
)

// Request controls the server understands.
const (
	OIDPagedResults = "1.2.840.113556.1.4.319"  // RFC 2696 simple paged results
	OIDSDFlags      = "1.2.840.113556.1.4.801"  // LDAP_SERVER_SD_FLAGS_OID
	OIDDomainScope  = "1.2.840.113556.1.4.1339" // LDAP_SERVER_DOMAIN_SCOPE_OID: no referrals; a no-op here
	OIDManageDsaIT  = "2.16.840.1.113730.3.4.2" // RFC 3296: no referrals here either; a no-op
)

// responseTag is the application tag of the response to each request op.
func responseTag(op goldap.ProtocolOp) int {
	switch op.(type) {
	case goldap.BindRequest:
		return 1
	case goldap.SearchRequest:
		return 5
	case goldap.ModifyRequest:
		return 7
	case goldap.AddRequest:
		return 9
	case goldap.DelRequest:
		return 11
	case goldap.ModifyDNRequest:
		return 13
	case goldap.CompareRequest:
		return 15
	default:
		return 24
	}
}

// checkControls answers unavailableCriticalExtension when the request carries a critical control
// the server does not implement for this operation (RFC 4511 4.1.11); non-critical unknown
// controls are ignored. It reports whether the request may proceed.
func (r *request) checkControls() bool {
	cs := r.m.Controls()
	if cs == nil {
		return true
	}
	_, isSearch := r.m.ProtocolOp().(goldap.SearchRequest)
	for _, c := range *cs {
		oid := string(c.ControlType())
		switch {
		case oid == OIDPagedResults && isSearch, oid == OIDServerSort && isSearch, oid == OIDSDFlags, oid == OIDDomainScope, oid == OIDManageDsaIT:
			continue
		}
		if !c.Criticality().Bool() {
			continue
		}
		// Divergence: AD's diagnostic text for this case is not reproduced; the code is.
		err := wireErr(fakead.UnavailableCriticalExtension, "control",
			fmt.Sprintf("00000057: critical control %s is not supported for this operation", oid))
		_ = r.writeEncoded(resultOp(responseTag(r.m.ProtocolOp()), err), nil)
		return false
	}
	return true
}

// control finds a request control by OID.
func (r *request) control(oid string) (value []byte, present bool) {
	cs := r.m.Controls()
	if cs == nil {
		return nil, false
	}
	for _, c := range *cs {
		if string(c.ControlType()) == oid {
			if v := c.ControlValue(); v != nil {
				return []byte(*v), true
			}
			return nil, true
		}
	}
	return nil, false
}

// sdFlags parses the SD flags control value, SEQUENCE { INTEGER }; -1 when absent.
func (r *request) sdFlags() (int, error) {
	v, ok := r.control(OIDSDFlags)
	if !ok {
		return -1, nil
	}
	t, err := parseTLV(v)
	if err != nil || t.tag != tagSequence || len(t.children) != 1 || t.children[0].tag != tagInteger {
		return 0, wireErr(fakead.ProtocolError, "search", "00000057: LdapErr: malformed SD flags control value")
	}
	n, err := parseInt(t.children[0].value)
	if err != nil || n < 0 || n > 1<<31-1 {
		return 0, wireErr(fakead.ProtocolError, "search", "00000057: LdapErr: malformed SD flags control value")
	}
	return int(n), nil
}

// pagedControl parses the paged-results control, SEQUENCE { INTEGER size, OCTET STRING cookie }.
func (r *request) pagedControl() (present bool, size int, cookie []byte, err error) {
	v, ok := r.control(OIDPagedResults)
	if !ok {
		return false, 0, nil, nil
	}
	bad := wireErr(fakead.ProtocolError, "search", "00000057: LdapErr: malformed paged results control value")
	t, perr := parseTLV(v)
	if perr != nil || t.tag != tagSequence || len(t.children) != 2 ||
		t.children[0].tag != tagInteger || t.children[1].tag != tagOctetString || t.children[1].constructed {
		return true, 0, nil, bad
	}
	n, perr := parseInt(t.children[0].value)
	if perr != nil || n < 0 || n > 1<<31-1 {
		return true, 0, nil, bad
	}
	return true, int(n), t.children[1].value, nil
}

// pagedResponseControl encodes the paged-results response control with cookie.
func pagedResponseControl(cookie []byte) []byte {
	value := berSeq(classUniversal, tagSequence,
		berInt(classUniversal, tagInteger, 0), // size estimate: AD sends 0 too
		berOctets(classUniversal, tagOctetString, cookie))
	ctrl := berSeq(classUniversal, tagSequence,
		berString(OIDPagedResults),
		berOctets(classUniversal, tagOctetString, value))
	return ctrl
}
