package migrate

import (
	"errors"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// fixHint is one row of the table dirFix reads: an AD extended error (the diagnostic's leading
// Win32 code, "000021C7") or, when Diag is "", an LDAP result code, for one step kind ("": any
// directory step), and what the operator should do.
type fixHint struct {
	Diag string
	Code uint16
	Kind StepKind
	Hint string
}

// fixHints is searched in order; the first row that matches the error and the step kind wins.
// Rows with a diagnostic come before rows with only a result code: a constraint violation is
// many different things, and the diagnostic says which.
var fixHints = []fixHint{
	{Diag: "000021C7", Hint: "an SPN being added already exists elsewhere in the forest (AD 2012 R2 and later refuse a duplicate): find its holder with setspn -Q <SPN>, remove it there, then resume"},
	{Diag: "000021C8", Hint: "the userPrincipalName is already used in the forest: remove it from the other account, then resume"},
	{Diag: "00000524", Kind: StepGMSA, Hint: "an object with this sAMAccountName exists and is not this gMSA: choose another name (--gmsa COMPONENT:NAME; Config.Accounts) and start a new journal"},
	{Diag: "00000524", Hint: "an object with this name already exists: rename or remove it, then resume"},
	{Diag: "8009000D", Kind: StepGMSA, Hint: "the DC has no KDS root key eligible yet (Key does not exist): wait until one is (up to 10 hours after Add-KdsRootKey -EffectiveImmediately, or create one with -EffectiveTime in the past in a lab), then resume"},
	{Diag: "8009000D", Hint: "the DC has no KDS root key eligible yet (Key does not exist): wait, then resume"},
	{Diag: "0000202D", Hint: "the DC requires a protected connection for this: set Config.DC to LDAPS (636) or StartTLS, then resume"},
	{Diag: "00002098", Hint: "the admin lacks the right for this change: bind as a Domain Admin (or Account Operator) and resume"},
	{Code: ldap.LDAPResultInsufficientAccessRights, Hint: "the admin lacks the right for this change: bind as a Domain Admin (or Account Operator) and resume"},
	{Code: ldap.LDAPResultEntryAlreadyExists, Kind: StepGMSA, Hint: "an object with this name exists: choose another gMSA name (--gmsa COMPONENT:NAME; Config.Accounts) and start a new journal"},
	{Code: ldap.LDAPResultEntryAlreadyExists, Hint: "the object already exists: resume (the step reconciles an existing object)"},
	{Code: ldap.LDAPResultNoSuchObject, Kind: StepGMSA, Hint: "the gMSA container does not exist: check Config.GMSAContainer (default CN=Managed Service Accounts) and resume"},
	{Code: ldap.LDAPResultNoSuchObject, Kind: StepGroup, Hint: "the group container does not exist: check Config.GroupContainer (default CN=Users) and resume"},
	{Code: ldap.LDAPResultNoSuchObject, Hint: "the object is gone: check that the account exists and resume"},
	{Code: ldap.LDAPResultObjectClassViolation, Hint: "the schema does not know the gMSA classes: extend it to Windows Server 2012 or later (adprep /forestprep), then resume"},
	{Code: ldap.LDAPResultUndefinedAttributeType, Hint: "the schema does not know an attribute the step writes: extend it to Windows Server 2012 or later (adprep /forestprep), then resume"},
	{Code: ldap.LDAPResultConstraintViolation, Hint: "the DC refused a value (see its diagnostic above): correct it on the object, then resume"},
	{Code: ldap.LDAPResultUnwillingToPerform, Hint: "the DC refused the operation (see its diagnostic above): check the DC's functional level and the object, then resume"},
	{Code: ldap.LDAPResultStrongAuthRequired, Hint: "the DC requires a protected connection: set Config.DC to LDAPS (636) or StartTLS, then resume"},
	{Code: ldap.LDAPResultConfidentialityRequired, Hint: "the DC requires a protected connection: set Config.DC to LDAPS (636) or StartTLS, then resume"},
	{Code: ldap.LDAPResultUnavailable, Hint: "the DC is unavailable: check that it runs and is reachable (or point Config.DC at another DC), then resume"},
	{Code: ldap.LDAPResultBusy, Hint: "the DC is busy: resume in a moment"},
	{Code: ldap.ErrorNetwork, Hint: "the connection to the DC failed: check that it runs and is reachable, then resume"},
}

// dirFix is the hint for err, returned by the DC while running a step of kind. It never blames a
// cause the DC did not name.
func dirFix(kind StepKind, err error) string {
	diag, code := "", uint16(0)
	var le *ldap.Error
	if errors.As(err, &le) {
		code = le.ResultCode
		if le.Err != nil {
			diag = le.Err.Error()
		}
	}
	if diag == "" && err != nil {
		diag = err.Error()
	}
	for _, h := range fixHints {
		if h.Kind != "" && h.Kind != kind {
			continue
		}
		if h.Diag != "" {
			if strings.Contains(strings.ToUpper(diag), h.Diag) {
				return h.Hint
			}
			continue
		}
		if le != nil && code == h.Code {
			return h.Hint
		}
	}
	return "check the DC's answer above, correct the object by hand if needed, then resume"
}
