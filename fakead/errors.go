package fakead

import (
	"errors"
	"fmt"
)

// ResultCode is an LDAP result code (RFC 4511 4.1.9). The model reports every failure with one, so
// the wire edge never has to guess.
type ResultCode int

// LDAP result codes used by Active Directory.
const (
	Success                      ResultCode = 0
	OperationsError              ResultCode = 1
	ProtocolError                ResultCode = 2
	TimeLimitExceeded            ResultCode = 3
	SizeLimitExceeded            ResultCode = 4
	CompareFalse                 ResultCode = 5
	CompareTrue                  ResultCode = 6
	AuthMethodNotSupported       ResultCode = 7
	StrongerAuthRequired         ResultCode = 8
	Referral                     ResultCode = 10
	AdminLimitExceeded           ResultCode = 11
	UnavailableCriticalExtension ResultCode = 12
	ConfidentialityRequired      ResultCode = 13
	SaslBindInProgress           ResultCode = 14
	NoSuchAttribute              ResultCode = 16
	UndefinedAttributeType       ResultCode = 17
	InappropriateMatching        ResultCode = 18
	ConstraintViolation          ResultCode = 19
	AttributeOrValueExists       ResultCode = 20
	InvalidAttributeSyntax       ResultCode = 21
	NoSuchObject                 ResultCode = 32
	AliasProblem                 ResultCode = 33
	InvalidDNSyntax              ResultCode = 34
	InappropriateAuthentication  ResultCode = 48
	InvalidCredentials           ResultCode = 49
	InsufficientAccessRights     ResultCode = 50
	Busy                         ResultCode = 51
	Unavailable                  ResultCode = 52
	UnwillingToPerform           ResultCode = 53
	LoopDetect                   ResultCode = 54
	NamingViolation              ResultCode = 64
	ObjectClassViolation         ResultCode = 65
	NotAllowedOnNonLeaf          ResultCode = 66
	NotAllowedOnRDN              ResultCode = 67
	EntryAlreadyExists           ResultCode = 68
	ObjectClassModsProhibited    ResultCode = 69
	AffectsMultipleDSAs          ResultCode = 71
	Other                        ResultCode = 80
)

// Error is every failure of a model operation. Code is the LDAP result code, Diag the diagnostic
// text a Windows DC puts into the LDAPResult (for example
// "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0"), MatchedDN the
// deepest existing ancestor for noSuchObject.
type Error struct {
	Code      ResultCode
	Op        string // "add", "modify", "delete", "modifyDN", "search", "compare", "bind", "replicate"
	DN        string
	Diag      string
	MatchedDN string
	Referrals []string // the LDAP URLs of a referral (10): the LDAPResult's referral field
	Err       error    // the cause, for errors.Is/As; may be nil
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %q: %s (%d)", e.Op, e.DN, e.Code, int(e.Code))
	if e.Diag != "" {
		msg += ": " + e.Diag
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, &Error{Code: X}) match on the code alone.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) && t != nil && t.Op == "" && t.DN == "" && t.Diag == "" && t.Err == nil {
		return t.Code == e.Code
	}
	return false
}

// CodeOf returns the result code of err: Success for nil, the code of a *Error, Other for anything
// else.
func CodeOf(err error) ResultCode {
	if err == nil {
		return Success
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Other
}

var codeNames = map[ResultCode]string{
	Success: "success", OperationsError: "operationsError", ProtocolError: "protocolError",
	TimeLimitExceeded: "timeLimitExceeded", SizeLimitExceeded: "sizeLimitExceeded",
	CompareFalse: "compareFalse", CompareTrue: "compareTrue",
	AuthMethodNotSupported: "authMethodNotSupported", StrongerAuthRequired: "strongerAuthRequired",
	Referral: "referral", AdminLimitExceeded: "adminLimitExceeded",
	UnavailableCriticalExtension: "unavailableCriticalExtension",
	ConfidentialityRequired:      "confidentialityRequired", SaslBindInProgress: "saslBindInProgress",
	NoSuchAttribute: "noSuchAttribute", UndefinedAttributeType: "undefinedAttributeType",
	InappropriateMatching: "inappropriateMatching", ConstraintViolation: "constraintViolation",
	AttributeOrValueExists: "attributeOrValueExists", InvalidAttributeSyntax: "invalidAttributeSyntax",
	NoSuchObject: "noSuchObject", AliasProblem: "aliasProblem", InvalidDNSyntax: "invalidDNSyntax",
	InappropriateAuthentication: "inappropriateAuthentication", InvalidCredentials: "invalidCredentials",
	InsufficientAccessRights: "insufficientAccessRights", Busy: "busy", Unavailable: "unavailable",
	UnwillingToPerform: "unwillingToPerform", LoopDetect: "loopDetect", NamingViolation: "namingViolation",
	ObjectClassViolation: "objectClassViolation", NotAllowedOnNonLeaf: "notAllowedOnNonLeaf",
	NotAllowedOnRDN: "notAllowedOnRDN", EntryAlreadyExists: "entryAlreadyExists",
	ObjectClassModsProhibited: "objectClassModsProhibited", AffectsMultipleDSAs: "affectsMultipleDSAs",
	Other: "other",
}

func (c ResultCode) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("resultCode(%d)", int(c))
}
