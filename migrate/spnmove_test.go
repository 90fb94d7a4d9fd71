package migrate

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestDirFixTable(t *testing.T) {
	ldapErr := func(code uint16, diag string) error {
		return &DirError{Op: "add", DN: "CN=x", DC: "dc1", Err: &ldap.Error{ResultCode: code, Err: errors.New(diag)}}
	}
	spnDup := ldapErr(ldap.LDAPResultConstraintViolation, "000021C7: AtrErr: DSID-03151818, #1:\n\t0: 000021C7: DSID-03151818, problem 1005 (CONSTRAINT_ATT_TYPE), data 0, Att 90303 (servicePrincipalName)\n")
	noKey := ldapErr(ldap.LDAPResultOther, "8009000D: SvcErr: DSID-031A1254, problem 5012 (DIR_ERROR), data 0")
	for _, tc := range []struct {
		kind StepKind
		err  error
		want string
		not  string
	}{
		{StepGMSA, spnDup, "already exists elsewhere in the forest", "root key"},
		{StepMoveSPN, spnDup, "setspn -Q", "root key"},
		{StepGroup, spnDup, "SPN", "root key"},
		{StepGMSA, noKey, "KDS root key eligible", "SPN"},
		{StepGMSA, ldapErr(ldap.LDAPResultEntryAlreadyExists, "00000524: UpdErr: DSID-031A11E2, problem 6005 (ENTRY_EXISTS), data 0"), "choose another name", "root key"},
		{StepGroup, ldapErr(ldap.LDAPResultEntryAlreadyExists, "00000524: UpdErr"), "already exists", "gMSA"},
		{StepGMSA, ldapErr(ldap.LDAPResultInsufficientAccessRights, "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0"), "Domain Admin", "root key"},
		{StepGMSA, ldapErr(ldap.LDAPResultNoSuchObject, "0000208D: NameErr"), "GMSAContainer", "root key"},
		{StepGroup, ldapErr(ldap.LDAPResultNoSuchObject, "0000208D: NameErr"), "GroupContainer", "root key"},
		{StepGMSA, ldapErr(ldap.LDAPResultUnavailable, "00000000: unavailable"), "unavailable", "root key"},
		{StepGMSA, ldapErr(ldap.LDAPResultObjectClassViolation, "0000207D"), "schema", "root key"},
		{StepGMSA, ldapErr(ldap.LDAPResultConfidentialityRequired, "0000202D: ConfidentialityRequired"), "LDAPS", "root key"},
		{StepMoveSPN, ldapErr(ldap.LDAPResultConstraintViolation, "00002081: other"), "refused a value", "root key"},
	} {
		got := dirFix(tc.kind, tc.err)
		if !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) {
			t.Errorf("dirFix(%s, %v) = %q, want it to contain %q and not %q", tc.kind, tc.err, got, tc.want, tc.not)
		}
	}
}

func TestPlanMovesAssignsByServiceClass(t *testing.T) {
	ts := []SPNTarget{{Component: CompPAMREST, Account: "PAMRestGMSA$"}, {Component: CompSSPRRegistration, Account: "SSPRRegGMSA$"},
		{Component: CompSSPRReset, Account: "SSPRResetGMSA$"}, {Component: CompService, Account: "MIMServiceGMSA$", SPNs: []string{"HTTP/x.contoso.com"}}}
	old := &object{SAM: "svc-mim", SPNs: []string{"FIMService/mimsvc.contoso.com", "HTTP/passwordreset.contoso.com",
		"HTTP/passwordregistration.contoso.com", "HTTP/mimpam.contoso.com", "HTTP/x.contoso.com"},
		DelegateTo: []string{"http/mim"}, UAC: 512 | UACTrustedForDelegation}
	got := planMoves(old, ts)
	want := map[string]string{
		"spn:FIMService/mimsvc.contoso.com": "MIMServiceGMSA$", "spn:HTTP/passwordreset.contoso.com": "SSPRResetGMSA$",
		"spn:HTTP/passwordregistration.contoso.com": "SSPRRegGMSA$", "spn:HTTP/mimpam.contoso.com": "PAMRestGMSA$",
		"spn:HTTP/x.contoso.com": "MIMServiceGMSA$", "delegate:http/mim": "MIMServiceGMSA$", "trusted": "MIMServiceGMSA$",
	}
	if len(got) != len(want) {
		t.Fatalf("planMoves = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("planMoves[%q] = %q, want %q", k, got[k], v)
		}
	}
	if m := planMoves(&object{SAM: "PAMRestGMSA$", SPNs: []string{"a/b"}}, ts); len(m) != 0 {
		t.Errorf("an old account that is a target moves nothing, got %v", m)
	}
}
