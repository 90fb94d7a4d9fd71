package fakead

// The types the world (sim) and the wire (fakead/ldapsrv) exchange with the model: identifiers,
// the configuration of a new domain and the replication records. The operations live with their
// implementations: NewDomain in bootstrap.go, Directory in directory.go, Bind and passwords in
// principals.go, Search in search.go, Add/Modify/Delete/ModifyDN/Compare in add.go, modify.go and
// delete.go, ChangesSince/ApplyReplicated/Digest in repl.go, ExportLDIF/ImportLDIF in ldif.go;
// constructed attributes (msDS-ManagedPassword among them) are computed in constructed.go.

import (
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// IDSource hands out the identifiers a directory mints. The world implements it from the seed's
// named random streams, so ids are stable for a seed.
type IDSource interface {
	NewGUID() ad.GUID
}

// DCConfig describes one domain controller of the domain.
type DCConfig struct {
	Name string // NetBIOS name, "DC1"
	OS   string // "2008R2", "2012", "2012R2", "2016", "2019", "2022", "2025"
	// Password is the DC's computer-account password: NewDomain stores its NT hash and AES keys
	// (computer salt) on the account, so the KDC issues tickets for the DC's SPNs. Empty: the
	// account has no keys. The replicas never keep it (Directory.DC returns it empty).
	Password string
}

// DomainConfig is what a fresh domain is built from.
type DomainConfig struct {
	DNSName       string // "contoso.com"
	NetBIOSName   string // "CONTOSO"
	DomainSID     string // "S-1-5-21-a-b-c", derived from the seed by the world
	SchemaVersion int    // CN=Schema objectVersion: 47, 52, 56, 69, 87, 88, 91
	DCs           []DCConfig
	AdminPassword string
	// Keys memoises the derivation of accounts' keys from their passwords; nil gives the domain
	// its own (see fakekds.KeyMemo for who shares one).
	Keys *fakekds.KeyMemo
}

// ReplChange is one object's replicated state: identity by objectGUID, the attributes that changed.
type ReplChange struct {
	GUID ad.GUID
	// DN is the object's DN on the source and ParentGUID its parent's objectGUID: with the "name"
	// attribute's metadata they carry renames and moves, as AD replicates the RDN and parent.
	DN         string
	ParentGUID ad.GUID
	Attrs      []ReplAttr
}

// ReplAttr is one attribute's values with its metadata. The object's name and parent travel as the
// attribute "name" plus the DN in the change (AD replicates the RDN and parent the same way).
type ReplAttr struct {
	Name   string
	Values [][]byte // empty: the attribute was removed; link values are "<GUID=g>;DN"
	Meta   AttrMeta
}

// AttrMeta is AD's per-attribute replication metadata (msDS-ReplAttributeMetaData).
type AttrMeta struct {
	Version  uint32
	OrigDSA  ad.GUID // invocationId of the originating DC
	OrigTime time.Time
	OrigUSN  uint64
	LocalUSN uint64
}
