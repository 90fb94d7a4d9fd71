package fakead

import (
	"fmt"
	"strconv"
	"strings"
)

// Diagnostic texts as a Windows DC writes them into the LDAPResult. The DSIDs are those seen from
// Windows Server 2016-2022 DCs.
const (
	diagInsuffAccess   = "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0"
	diagEntryExists    = "00002071: UpdErr: DSID-03050504, problem 6005 (ENTRY_EXISTS), data 0"
	diagObjClassViol   = "0000207B: UpdErr: DSID-03050FC5, problem 6002 (OBJ_CLASS_VIOLATION), data 0"
	diagObjClassMods   = "000020D8: UpdErr: DSID-0315102F, problem 6006 (OBJ_CLASS_MOD_PROHIBITED), data 0"
	diagWillNotPerform = "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0"
	diagNonLeaf        = "00002015: UpdErr: DSID-030510B1, problem 6003 (CANT_ON_NON_LEAF), data 0"
	diagNotOnRDN       = "00002016: UpdErr: DSID-030512FA, problem 6004 (CANT_ON_RDN), data 0"
	diagMustBind       = "000004DC: LdapErr: DSID-0C090CF4, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, v4563"
	diagBadCreds       = "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563"
	diagDisabled       = "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 533, v4563"
	diagConfidential   = "0000202D: SvcErr: DSID-03152C0F, problem 5003 (WILL_NOT_PERFORM), data 0 (ERROR_DS_CONFIDENTIALITY_REQUIRED)"
	diagAttrConversion = "00000057: LdapErr: DSID-0C090D8A, comment: Error in attribute conversion operation, data 0, v4563"
	diagNamingViol     = "00002099: NameErr: DSID-0305109C, problem 2005 (NAMING_VIOLATION), data 0, best match of:\n\t'%s'\n"
)

func opErr(code ResultCode, op, dn, diag string) *Error {
	return &Error{Code: code, Op: op, DN: dn, Diag: diag}
}

// errNoSuchObject is AD's noSuchObject with the best match (the deepest existing ancestor).
func errNoSuchObject(op, dn, matched string) *Error {
	return &Error{Code: NoSuchObject, Op: op, DN: dn, MatchedDN: matched,
		Diag: fmt.Sprintf("0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT), data 0, best match of:\n\t'%s'\n", matched)}
}

func errInvalidDN(op, dn string) *Error {
	return &Error{Code: InvalidDNSyntax, Op: op, DN: dn,
		Diag: "00002081: NameErr: DSID-03050F42, problem 2003 (BAD_ATT_SYNTAX), data 0, best match of:\n\t'" + dn + "'\n"}
}

// attErr builds AD's AtrErr text for attribute a ("Att 90290 (userAccountControl)").
func attErr(code ResultCode, op, dn string, win uint32, problem int, pname string, a *AttrType) *Error {
	id := "0"
	if a != nil {
		id = attID(a)
	}
	name := ""
	if a != nil {
		name = a.Name
	}
	diag := fmt.Sprintf("%08X: AtrErr: DSID-03151818, #1:\n\t0: %08X: DSID-03151818, problem %d (%s), data 0, Att %s (%s)\n",
		win, win, problem, pname, id, name)
	return &Error{Code: code, Op: op, DN: dn, Diag: diag}
}

// attID is the ATTRTYP AD prints in AtrErr texts ("Att 90008 (userAccountControl)"): the
// [MS-DRSR] 5.16.4 prefix-table index of the OID's prefix in the high word, the last arc in the
// low word. Attributes outside the well-known prefixes print their last arc only.
func attID(a *AttrType) string {
	i := strings.LastIndexByte(a.OID, '.')
	if i < 0 {
		return "0"
	}
	last, err := strconv.Atoi(a.OID[i+1:])
	if err != nil {
		return "0"
	}
	prefix := map[string]int{
		"2.5.4": 0x0, "2.5.6": 0x1, "1.2.840.113556.1.2": 0x2, "1.2.840.113556.1.3": 0x3,
		"2.5.5": 0x8, "1.2.840.113556.1.4": 0x9, "1.2.840.113556.1.5": 0xA,
		"0.9.2342.19200300.100": 0x13, "2.16.840.1.113730.3": 0x14, "0.9.2342.19200300.100.1": 0x15,
		"2.16.840.1.113730.3.1": 0x16, "2.5.21": 0x18, "2.5.18": 0x19, "2.5.20": 0x1A,
	}[a.OID[:i]]
	return strconv.FormatInt(int64(prefix<<16|last&0xffff), 16)
}

func errUndefinedAttr(op, dn, name string) *Error {
	return &Error{Code: UndefinedAttributeType, Op: op, DN: dn, Diag: diagAttrConversion,
		Err: fmt.Errorf("attribute %q is not in the schema", name)}
}

func errSingleValue(op, dn string, a *AttrType) *Error {
	return attErr(ConstraintViolation, op, dn, 0x2081, 1005, "CONSTRAINT_ATT_TYPE", a)
}

func errSyntaxValue(op, dn string, a *AttrType) *Error {
	return attErr(InvalidAttributeSyntax, op, dn, 0x57, 1005, "CONSTRAINT_ATT_TYPE", a)
}

func errValueExists(op, dn string, a *AttrType) *Error {
	return attErr(AttributeOrValueExists, op, dn, 0x2083, 1006, "ATT_OR_VALUE_EXISTS", a)
}

func errNoValue(op, dn string, a *AttrType) *Error {
	return attErr(NoSuchAttribute, op, dn, 0x2085, 1001, "NO_ATTRIBUTE_OR_VAL", a)
}

func errConstraint(op, dn string, a *AttrType) *Error {
	return attErr(ConstraintViolation, op, dn, 0x202F, 1005, "CONSTRAINT_ATT_TYPE", a)
}

func errObjClass(op, dn string, why string) *Error {
	return &Error{Code: ObjectClassViolation, Op: op, DN: dn, Diag: diagObjClassViol, Err: fmt.Errorf("%s", why)}
}

func errAccess(op, dn string, why string) *Error {
	return &Error{Code: InsufficientAccessRights, Op: op, DN: dn, Diag: diagInsuffAccess, Err: fmt.Errorf("%s", why)}
}

func errUnwilling(op, dn, why string) *Error {
	return &Error{Code: UnwillingToPerform, Op: op, DN: dn, Diag: diagWillNotPerform, Err: fmt.Errorf("%s", why)}
}

// errNotInClass is AD's objectClassViolation for an attribute the object's classes do not allow
// (ERROR_DS_ATT_NOT_DEF_FOR_CLASS); a missing mandatory attribute is 0000207B instead.
func errNotInClass(op, dn string, c *Class, a *AttrType) *Error {
	return &Error{Code: ObjectClassViolation, Op: op, DN: dn,
		Diag: "0000207D: UpdErr: DSID-03151288, problem 6002 (OBJ_CLASS_VIOLATION), data 0",
		Err:  fmt.Errorf("%s may not contain %s", c.Name, a.Name)}
}

// errReferral is AD's answer to an operation whose base lies outside every naming context the DC
// holds: referral (10), matchedDN "", one LDAP URL naming the domain the DN's trailing DC
// components spell, the DN kept as the client sent it. Windows' text, from captures of real DCs:
//
//	0000202B: RefErr: DSID-0310082F, data 0, 1 access points\n\tref 1: 'example.com'\n
//	referral: ldap://example.com/ou=People,dc=example,dc=com
//
// (a Windows DC's addResponse in the ruby-ldap-server's BER fixtures; jborean93/sansldap's
// searchResultDone fixture: "ref 1: 'foo.ldap.test'", "ldap://foo.ldap.test/DC=foo,DC=ldap,DC=test";
// [MS-ADDM] 2.6's fault example "ldap://server01.fabrikam.com/CN=Test,DC=fabrikam,DC=com";
// ERROR_DS_REFERRAL is 0x202B). The DSID varies by build (0310082F, 03100835, 0310084B seen).
// Windows ends the text with a NUL; like every other diagnostic here, this one leaves it out.
//
// ok is false when the DN has no trailing DC components to name a domain by.
// Divergence: what Windows answers for such a base (O=x, CN=x) is not confirmed; the caller
// answers noSuchObject then.
func errReferral(op, dnStr string, dn DN) (*Error, bool) {
	var labels []string
	for i := len(dn) - 1; i >= 0 && strings.EqualFold(dn[i].Attr, "DC"); i-- {
		labels = append([]string{dn[i].Value}, labels...)
	}
	if len(labels) == 0 {
		return nil, false
	}
	host := strings.ToLower(strings.Join(labels, "."))
	return &Error{Code: Referral, Op: op, DN: dnStr,
		Diag:      fmt.Sprintf("0000202B: RefErr: DSID-0310082F, data 0, 1 access points\n\tref 1: '%s'\n", host),
		Referrals: []string{"ldap://" + host + "/" + urlDNEscaper.Replace(dnStr)}}, true
}

// urlDNEscaper escapes what RFC 4516 2.1 does not let stand in an LDAP URL's DN and commas and
// equals signs may: the captures above show Windows leaves "=" and "," as they are.
// Divergence: how Windows escapes spaces and other characters in a referral's DN is not confirmed.
var urlDNEscaper = strings.NewReplacer("%", "%25", " ", "%20", "?", "%3F", "#", "%23")

// errNonBaseSearch refuses a constructed attribute that AD computes only on a base search
// (tokenGroups) in a one-level or subtree search.
//
// Divergence: the code (operationsError) is Samba's, which copies Windows; the text is not
// confirmed. It is built on ERROR_DS_NON_BASE_SEARCH (0x2120, "The requested search operation is
// only supported for base searches.") in AD's usual form, without a DSID.
func errNonBaseSearch(dn, attr string) *Error {
	return &Error{Code: OperationsError, Op: "search", DN: dn,
		Diag: "00002120: SvcErr: problem 5012 (DIR_ERROR), data 0 (ERROR_DS_NON_BASE_SEARCH)",
		Err:  fmt.Errorf("%s is computed only on a base-scope search", attr)}
}
