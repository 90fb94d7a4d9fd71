package fakead

// CONTRACT FILE — written by the integrator so that fakead (the model), sim (the world) and
// fakead/ldapsrv (the wire) can be built at the same time. The model's owner replaces every
// panic("unimplemented") with the real thing, may add fields and methods, and moves these
// declarations to the files where they belong; the signatures below are what sim and ldapsrv code
// against, so change one only together with its callers.

import (
	"io"
	"time"
)

// GUID is a GUID in MS-DTYP byte order (the first three fields little-endian), as objectGUID holds it.
type GUID [16]byte

// IDSource hands out the identifiers a directory mints. The world implements it from the seed's
// named random streams, so ids are stable for a seed.
type IDSource interface {
	NewGUID() GUID
}

// DCConfig describes one domain controller of the domain.
type DCConfig struct {
	Name string // NetBIOS name, "DC1"
	OS   string // "2008R2", "2012", "2012R2", "2016", "2019", "2022", "2025"
}

// DomainConfig is what a fresh domain is built from.
type DomainConfig struct {
	DNSName       string // "contoso.com"
	NetBIOSName   string // "CONTOSO"
	DomainSID     string // "S-1-5-21-a-b-c", derived from the seed by the world
	SchemaVersion int    // CN=Schema objectVersion: 47, 52, 56, 69, 87, 88, 91
	DCs           []DCConfig
	AdminPassword string
}

// NewDomain builds a fresh domain as of now: one replica per DC in cfg.DCs, in that order, all
// holding identical data (the well-known containers, users and groups of ad-reference/domain.ldif,
// the configuration and schema partitions, every DC's computer account), each replica knowing which
// DC it belongs to (its own invocationId, RID pool, dnsHostName for the rootDSE).
func NewDomain(cfg DomainConfig, ids IDSource, now time.Time) ([]*Directory, error) {
	panic("unimplemented")
}

// Directory is one DC's replica of the directory. It is a pure state machine: no goroutines, no
// clock (now is an argument), no I/O except the io.Writer/io.Reader handed to LDIF export/import.
// It is not safe for concurrent use; the world serialises calls.
type Directory struct{}

// Bind authenticates name (a DN, a UPN user@contoso.com, or CONTOSO\user) with password and returns
// the caller with its token. A wrong password is InvalidCredentials with AD's text
// "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563".
// An empty password is an unauthenticated (anonymous) bind, as RFC 4513 5.1.2 says.
func (d *Directory) Bind(now time.Time, name, password string, encrypted bool) (Caller, error) {
	panic("unimplemented")
}

// Search runs a search. The rootDSE (base "", scope base) and the subschema entry are answered
// here too. On SizeLimitExceeded the entries up to the limit are returned with the error.
func (d *Directory) Search(now time.Time, c Caller, req *SearchRequest) ([]SearchEntry, error) {
	panic("unimplemented")
}

func (d *Directory) Add(now time.Time, c Caller, dn string, attrs []Attribute) error {
	panic("unimplemented")
}

func (d *Directory) Modify(now time.Time, c Caller, dn string, mods []Modification) error {
	panic("unimplemented")
}

func (d *Directory) Delete(now time.Time, c Caller, dn string) error { panic("unimplemented") }

func (d *Directory) ModifyDN(now time.Time, c Caller, dn, newRDN string, deleteOldRDN bool, newSuperior string) error {
	panic("unimplemented")
}

func (d *Directory) Compare(now time.Time, c Caller, dn, attr string, value []byte) (bool, error) {
	panic("unimplemented")
}

// SetPassword sets a user's or computer's password (stored as NT hash and Kerberos keys only).
func (d *Directory) SetPassword(now time.Time, c Caller, dn, password string) error {
	panic("unimplemented")
}

// HighestUSN is this replica's highestCommittedUSN.
func (d *Directory) HighestUSN() uint64 { panic("unimplemented") }

// ChangesSince returns, for every object with an attribute whose local USN is > usn, the changed
// attributes with their values and replication metadata as they are now (AD's GetNCChanges).
func (d *Directory) ChangesSince(usn uint64) []ReplChange { panic("unimplemented") }

// ApplyReplicated applies changes received from another DC, attribute by attribute, resolving
// conflicts as AD does (higher version, then later originating time, then higher originating DC
// invocationId). An attribute that wins gets a new local USN (so it propagates onwards); one that
// loses or is already present changes nothing.
func (d *Directory) ApplyReplicated(now time.Time, changes []ReplChange) error {
	panic("unimplemented")
}

// ReplChange is one object's replicated state: identity by objectGUID, the attributes that changed.
type ReplChange struct {
	GUID  GUID
	Attrs []ReplAttr
}

// ReplAttr is one attribute's values with its metadata. The object's name and parent travel as the
// attribute "name" plus the DN in the change (AD replicates the RDN and parent the same way).
type ReplAttr struct {
	Name   string
	Values [][]byte // empty: the attribute was removed
	Meta   AttrMeta
}

// AttrMeta is AD's per-attribute replication metadata (msDS-ReplAttributeMetaData).
type AttrMeta struct {
	Version  uint32
	OrigDSA  GUID // invocationId of the originating DC
	OrigTime time.Time
	OrigUSN  uint64
	LocalUSN uint64
}

// ExportLDIF writes the whole replica as LDIF, deterministically ordered; ImportLDIF reads it back,
// and export(import(x)) == x byte for byte.
func (d *Directory) ExportLDIF(w io.Writer) error { panic("unimplemented") }

// ImportLDIF builds a replica from an LDIF export.
func ImportLDIF(r io.Reader) (*Directory, error) { panic("unimplemented") }

// ConstructedAttr is an attribute computed on read (msDS-ManagedPassword, tokenGroups, ...). When
// RequiresEncryption is set and the connection is not encrypted, reading it fails the whole search
// with OperationsError and AD's "0000202D" ERROR_DS_CONFIDENTIALITY_REQUIRED text. Compute returns
// nil values when the caller may not see it: the entry is then returned without it.
type ConstructedAttr struct {
	Name               string
	RequiresEncryption bool
	Compute            func(now time.Time, c Caller, d *Directory, dn string) ([][]byte, error)
}

// RegisterConstructed plugs in a constructed attribute.
func (d *Directory) RegisterConstructed(a ConstructedAttr) { panic("unimplemented") }
