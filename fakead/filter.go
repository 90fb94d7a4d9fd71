package fakead

// Filter is a search filter (RFC 4511 4.5.1.7) as a tree. The wire edge builds it from the
// decoded request; ParseFilter builds it from the RFC 4515 string form.
type Filter interface{ isFilter() }

type (
	// FilterAnd matches when every child matches (an empty And is TRUE, RFC 4526).
	FilterAnd []Filter
	// FilterOr matches when any child matches (an empty Or is FALSE).
	FilterOr []Filter
	// FilterNot inverts its child.
	FilterNot struct{ F Filter }
	// FilterEquality is (attr=value).
	FilterEquality struct {
		Attr  string
		Value []byte
	}
	// FilterSubstrings is (attr=initial*any*...*final); Initial and Final may be nil.
	FilterSubstrings struct {
		Attr    string
		Initial []byte
		Any     [][]byte
		Final   []byte
	}
	// FilterGreaterOrEqual is (attr>=value).
	FilterGreaterOrEqual struct {
		Attr  string
		Value []byte
	}
	// FilterLessOrEqual is (attr<=value).
	FilterLessOrEqual struct {
		Attr  string
		Value []byte
	}
	// FilterPresent is (attr=*).
	FilterPresent struct{ Attr string }
	// FilterApprox is (attr~=value).
	FilterApprox struct {
		Attr  string
		Value []byte
	}
	// FilterExtensible is (attr:dn:rule:=value). AD's rules: 1.2.840.113556.1.4.803 (bitwise AND),
	// 1.2.840.113556.1.4.804 (bitwise OR), 1.2.840.113556.1.4.1941 (LDAP_MATCHING_RULE_IN_CHAIN).
	FilterExtensible struct {
		Rule         string
		Attr         string
		Value        []byte
		DNAttributes bool
	}
)

func (FilterAnd) isFilter()            {}
func (FilterOr) isFilter()             {}
func (FilterNot) isFilter()            {}
func (FilterEquality) isFilter()       {}
func (FilterSubstrings) isFilter()     {}
func (FilterGreaterOrEqual) isFilter() {}
func (FilterLessOrEqual) isFilter()    {}
func (FilterPresent) isFilter()        {}
func (FilterApprox) isFilter()         {}
func (FilterExtensible) isFilter()     {}

// AD matching rule OIDs.
const (
	MatchBitAnd  = "1.2.840.113556.1.4.803"
	MatchBitOr   = "1.2.840.113556.1.4.804"
	MatchInChain = "1.2.840.113556.1.4.1941"
)
