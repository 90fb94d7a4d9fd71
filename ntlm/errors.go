package ntlm

import (
	"errors"
	"fmt"
)

// The package's errors. Every error it returns wraps one of these (test with errors.Is), with two
// exceptions passed through wrapped as they are: a LookupFunc's error (so ErrUnknownUser or the
// caller's own sentinels survive) and ServerConfig.Rand's read error. The message around it says
// what was being done and with which value.
var (
	// ErrMalformed: a message does not parse (bad signature or type, an offset or length outside the
	// message, odd UTF-16, a truncated NTLMv2 blob).
	ErrMalformed = errors.New("ntlm: malformed message")
	// ErrWrongPassword: the NTLMv2 proof does not match the account's NT hash.
	ErrWrongPassword = errors.New("ntlm: wrong password")
	// ErrUnknownUser is for lookup functions to return when no account matches; Authenticate
	// passes it through wrapped.
	ErrUnknownUser = errors.New("ntlm: unknown user")
	// ErrNTLMv1Refused: the client answered with an NTLMv1 (24-byte) or LM-only response, which a
	// DC with the default policy of Windows Server 2019 and later refuses.
	ErrNTLMv1Refused = errors.New("ntlm: NTLMv1 and LM responses are refused")
	// ErrAnonymous: an anonymous AUTHENTICATE_MESSAGE while ServerConfig.AllowAnonymous is false.
	ErrAnonymous = errors.New("ntlm: anonymous authentication refused")
	// ErrMIC: the message integrity code over the three messages does not match.
	ErrMIC = errors.New("ntlm: MIC mismatch")
	// ErrTimeSkew: the NTLMv2 timestamp is further than ServerConfig.MaxClockSkew from now.
	ErrTimeSkew = errors.New("ntlm: NTLMv2 timestamp outside the allowed clock skew")
	// ErrUnsupported: a requested capability this package does not implement (NTLMv1-style
	// session security, that is signing or sealing without extended session security).
	ErrUnsupported = errors.New("ntlm: unsupported capability")
	// ErrState: a Server method called out of order (Authenticate before Challenge, either twice).
	ErrState = errors.New("ntlm: call out of order")
	// ErrNotNegotiated: Seal/Unseal without sealing negotiated, Sign/Verify without signing.
	ErrNotNegotiated = errors.New("ntlm: session security not negotiated")
	// ErrBadSignature: a signature does not verify (wrong checksum, sequence number or version).
	// The Session is unusable afterwards: its RC4 state has moved past the bad message.
	ErrBadSignature = errors.New("ntlm: bad message signature")
)

func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("ntlm: "+format+": %w", append(args, sentinel)...)
}
