package fakead

// Attribute is one attribute of an entry as it crosses an API boundary: the name as the schema
// spells it (lDAPDisplayName) and its values in LDAP wire form (strings as UTF-8, integers as
// decimal text, binary syntaxes as raw bytes).
type Attribute struct {
	Name   string
	Values [][]byte
}

// ModOp is the operation of one modification (RFC 4511 4.6).
type ModOp int

const (
	ModAdd     ModOp = 0
	ModDelete  ModOp = 1
	ModReplace ModOp = 2
)

// Modification is one change of a modify request.
type Modification struct {
	Op   ModOp
	Attr Attribute
}

// Scope is a search scope (RFC 4511 4.5.1.2).
type Scope int

const (
	ScopeBase Scope = 0
	ScopeOne  Scope = 1
	ScopeSub  Scope = 2
)

// Caller is who performs an operation and over what: the bound principal's DN ("" for anonymous),
// the SIDs of its token at bind time (its own SID first, then its groups, transitively, plus the
// well-known SIDs a logon gets), and whether the connection is encrypted (LDAPS or StartTLS).
// System is the directory itself (rotations, replication, bootstrap): it bypasses access checks.
type Caller struct {
	DN        string
	SID       string
	Token     []string
	Encrypted bool
	System    bool
}

// Anonymous reports whether the caller did not bind.
func (c Caller) Anonymous() bool { return !c.System && c.DN == "" }

// SystemCaller is the directory acting on its own behalf.
var SystemCaller = Caller{System: true, Encrypted: true}

// SearchRequest is a search as the model runs it. Attributes holds the requested attribute list
// as the client sent it ("*", "+", "1.1" and names all allowed). SizeLimit 0 means none.
type SearchRequest struct {
	BaseDN     string
	Scope      Scope
	Filter     Filter
	Attributes []string
	TypesOnly  bool
	SizeLimit  int
	// SDFlags is the value of the LDAP_SERVER_SD_FLAGS_OID control (1.2.840.113556.1.4.801), or
	// -1 when absent. It selects the parts of nTSecurityDescriptor returned.
	SDFlags int
}

// Entry in a search result.
type SearchEntry struct {
	DN         string
	Attributes []Attribute
}
