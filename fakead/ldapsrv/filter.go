package ldapsrv

import (
	"fmt"

	goldap "github.com/lor00x/goldap/message"

	"github.com/gmsasim/gmsasim/fakead"
)

// convertFilter builds the model's filter AST from goldap's decoded filter. Depth is bounded by
// the framing layer (maxDepth), so the recursion is too.
func convertFilter(f goldap.Filter) (fakead.Filter, error) {
	switch f := f.(type) {
	case goldap.FilterAnd:
		out := make(fakead.FilterAnd, 0, len(f))
		for _, c := range f {
			cf, err := convertFilter(c)
			if err != nil {
				return nil, err
			}
			out = append(out, cf)
		}
		return out, nil
	case goldap.FilterOr:
		out := make(fakead.FilterOr, 0, len(f))
		for _, c := range f {
			cf, err := convertFilter(c)
			if err != nil {
				return nil, err
			}
			out = append(out, cf)
		}
		return out, nil
	case goldap.FilterNot:
		c, err := convertFilter(f.Filter)
		if err != nil {
			return nil, err
		}
		return fakead.FilterNot{F: c}, nil
	case goldap.FilterEqualityMatch:
		return fakead.FilterEquality{Attr: string(f.AttributeDesc()), Value: []byte(f.AssertionValue())}, nil
	case goldap.FilterGreaterOrEqual:
		return fakead.FilterGreaterOrEqual{Attr: string(f.AttributeDesc()), Value: []byte(f.AssertionValue())}, nil
	case goldap.FilterLessOrEqual:
		return fakead.FilterLessOrEqual{Attr: string(f.AttributeDesc()), Value: []byte(f.AssertionValue())}, nil
	case goldap.FilterApproxMatch:
		return fakead.FilterApprox{Attr: string(f.AttributeDesc()), Value: []byte(f.AssertionValue())}, nil
	case goldap.FilterPresent:
		// Divergence: the normaliser encodes an empty and/or (RFC 4526), which goldap rejects, as
		// these marker present filters; a client asking for the marker attribute gets the same.
		switch string(f) {
		case emptyAndAttr:
			return fakead.FilterAnd{}, nil
		case emptyOrAttr:
			return fakead.FilterOr{}, nil
		}
		return fakead.FilterPresent{Attr: string(f)}, nil
	case goldap.FilterSubstrings:
		out := fakead.FilterSubstrings{Attr: string(f.Type_())}
		for _, s := range f.Substrings() {
			switch s := s.(type) {
			case goldap.SubstringInitial:
				out.Initial = []byte(s)
			case goldap.SubstringAny:
				out.Any = append(out.Any, []byte(s))
			case goldap.SubstringFinal:
				out.Final = []byte(s)
			default:
				return nil, fmt.Errorf("substring element %T", s)
			}
		}
		return out, nil
	case goldap.FilterExtensibleMatch:
		rule, attr, value, dnAttrs, err := extensibleFields(f)
		if err != nil {
			return nil, err
		}
		return fakead.FilterExtensible{Rule: rule, Attr: attr, Value: []byte(value), DNAttributes: dnAttrs}, nil
	default:
		return nil, fmt.Errorf("filter %T", f)
	}
}
