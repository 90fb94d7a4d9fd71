package kdc

import (
	"errors"
	"strings"
	"time"
)

// Encryption types the KDC issues with ([RFC 3962], [RFC 4757]).
const (
	EtypeAES256 int32 = 18
	EtypeAES128 int32 = 17
	EtypeRC4    int32 = 23
)

// Bits of msDS-SupportedEncryptionTypes ([MS-KILE] 2.2.7).
const (
	EncTypeRC4    = 0x4
	EncTypeAES128 = 0x8
	EncTypeAES256 = 0x10
	// EncTypeAESSK allows AES session keys with tickets of another etype.
	EncTypeAESSK = 0x20
	// DefaultDomainSupportedEncTypes is what AD assumes for a service without
	// msDS-SupportedEncryptionTypes since the November 2022 updates: RC4 tickets, AES session
	// keys (0x27: DES-CBC-CRC, DES-CBC-MD5, RC4, AES-SK; no DES here).
	// Divergence: AD reads it from the DC's registry (KDC\DefaultDomainSupportedEncTypes); it is
	// fixed here.
	DefaultDomainSupportedEncTypes = 0x27
)

// userAccountControl bits the KDC reads ([MS-ADTS] 2.2.16).
const (
	UACAccountDisable       = 0x2
	UACTrustedForDelegation = 0x80000
	UACNotDelegated         = 0x100000
)

// etypePreference is the order in which the KDC picks a key of its own choosing (the etype a ticket
// is encrypted with): strongest first.
var etypePreference = []int32{EtypeAES256, EtypeAES128, EtypeRC4}

// Kind says what sort of account a principal is.
type Kind int

const (
	KindUser     Kind = iota // a user account
	KindComputer             // a computer account (workstation or server trust)
	KindGMSA                 // a group managed service account
	KindKRBTGT               // the domain's krbtgt account
)

func (k Kind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindComputer:
		return "computer"
	case KindGMSA:
		return "gMSA"
	case KindKRBTGT:
		return "krbtgt"
	}
	return "unknown"
}

// Principal is what the KDC needs to know of one account, as of the time it was looked up.
type Principal struct {
	Name               string // sAMAccountName, "alice", "WEB1$", "ITFarm1$"
	DN                 string
	SID                string
	Kind               Kind
	UserAccountControl int64
	// SupportedEncTypes is msDS-SupportedEncryptionTypes; 0 when the attribute is absent.
	SupportedEncTypes int64
	// KVNO is msDS-KeyVersionNumber: the version the current keys carry.
	KVNO uint32
	// Salt is the AES salt of the current keys (AD's rules, see fakead.KerberosSalt).
	Salt string
	// Keys are the current long-term keys by etype. A gMSA's are derived from its current managed
	// password; the KDC always issues with the current key.
	Keys map[int32][]byte
	SPNs []string
	// PreviousKeys are a gMSA's keys of its previous managed password, when it has one: what a
	// service host accepts tickets with after a rotation. The KDC never issues with them.
	PreviousKeys map[int32][]byte
	// PrimaryGroupID is the RID of the primary group (513 Domain Users, 515 Domain Computers).
	PrimaryGroupID uint32
}

// Disabled reports userAccountControl ACCOUNTDISABLE.
func (p *Principal) Disabled() bool { return p.UserAccountControl&UACAccountDisable != 0 }

// Etypes are the etypes the KDC may use with p's keys, strongest first: those p has a key for,
// restricted to msDS-SupportedEncryptionTypes when set.
// Divergence: AD applies msDS-SupportedEncryptionTypes to service tickets and session keys and
// lets a client pre-authenticate with any key it has; here it restricts every use of the account's
// keys, so an AES-only account cannot log on with RC4 either (KDC_ERR_ETYPE_NOSUPP).
func (p *Principal) Etypes() []int32 {
	var out []int32
	for _, et := range etypePreference {
		if len(p.Keys[et]) == 0 {
			continue
		}
		if p.SupportedEncTypes != 0 && p.SupportedEncTypes&encBit(et) == 0 {
			continue
		}
		out = append(out, et)
	}
	return out
}

// serviceEncTypes is the msDS-SupportedEncryptionTypes the KDC applies to p as a service: its own,
// or DefaultDomainSupportedEncTypes when unset. The krbtgt account is not subject to the default.
func (p *Principal) serviceEncTypes() int64 {
	if p.SupportedEncTypes != 0 || p.Kind == KindKRBTGT {
		return p.SupportedEncTypes
	}
	return DefaultDomainSupportedEncTypes
}

// ticketEtype is the etype a ticket for p is encrypted with: the strongest allowed one p has a key
// for; 0 when there is none.
func (p *Principal) ticketEtype() int32 {
	set := p.serviceEncTypes()
	for _, et := range etypePreference {
		if len(p.Keys[et]) > 0 && (set == 0 || set&encBit(et) != 0) {
			return et
		}
	}
	return 0
}

// sessionEtype is the first etype of want (the client's order) the service p allows for session
// keys: those of its msDS-SupportedEncryptionTypes, AES ones too with AES-SK. Session keys are
// fresh: p needs no key of that etype. 0 when none.
func (p *Principal) sessionEtype(want []int32) int32 {
	set := p.serviceEncTypes()
	for _, et := range want {
		switch {
		case encBit(et) == 0:
			continue
		case set == 0, set&encBit(et) != 0, set&EncTypeAESSK != 0 && (et == EtypeAES128 || et == EtypeAES256):
			return et
		}
	}
	return 0
}

func (p *Principal) supports(et int32) bool {
	for _, x := range p.Etypes() {
		if x == et {
			return true
		}
	}
	return false
}

func encBit(et int32) int64 {
	switch et {
	case EtypeAES256:
		return EncTypeAES256
	case EtypeAES128:
		return EncTypeAES128
	case EtypeRC4:
		return EncTypeRC4
	}
	return 0
}

// firstCommon is the first etype of want (the client's order) that p supports, or 0.
func firstCommon(want []int32, p *Principal) int32 {
	for _, et := range want {
		if p.supports(et) {
			return et
		}
	}
	return 0
}

// ErrNoPrincipal is what a Principals lookup returns for a name that names no usable account.
var ErrNoPrincipal = errors.New("kdc: no such principal")

// Principals is the KDC's account database. It is called only from Handle, which a Server runs
// inside the world's executor, so an implementation over a directory replica needs no locking of
// its own.
type Principals interface {
	// Client finds the account that logs on as name: a sAMAccountName ("alice", "WEB1$") or a
	// userPrincipalName ("alice@contoso.com"). ErrNoPrincipal when there is none.
	Client(now time.Time, name string) (*Principal, error)
	// Service finds the account a ticket for the service principal name components is encrypted
	// for: by servicePrincipalName ("http/ITFarm1.contoso.com"), by sAMAccountName (one
	// component), or a computer's implicit host/ names. The krbtgt service is asked for through
	// KRBTGT, never here. ErrNoPrincipal when there is none.
	Service(now time.Time, name []string) (*Principal, error)
	// KRBTGT is the domain's krbtgt account, whose keys encrypt TGTs.
	KRBTGT(now time.Time) (*Principal, error)
	// Groups is the SIDs of the security groups p belongs to now, transitively: the snapshot its
	// TGT carries.
	Groups(now time.Time, p *Principal) ([]string, error)
}

// isKRBTGT reports whether the name components are krbtgt/REALM (or plain krbtgt) for realm.
func isKRBTGT(name []string, realm string) bool {
	if len(name) == 0 || !strings.EqualFold(name[0], "krbtgt") {
		return false
	}
	return len(name) == 1 || (len(name) == 2 && strings.EqualFold(name[1], realm))
}
