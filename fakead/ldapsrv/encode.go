package ldapsrv

import (
	goldap "github.com/lor00x/goldap/message"

	"github.com/gmsasim/gmsasim/fakead"
)

// A hand-written encoder for the responses most requests end with — search entries and
// LDAPResult-shaped results — appended into a reused buffer, for requests answered inline
// (inline.go). Building goldap's structures and encoding them (sizes computed, then written
// backwards into fresh buffers) cost more than the search itself. The bytes are goldap's, with
// the message ID repaired as inspectResponse repairs it: encode_test.go compares the two for many
// inputs and FuzzResponseEncoding for any, and TestInlineAnswersLikeTheLibrary compares whole
// answers with the library's.

// lenOctets is the size of a minimal definite length field for n content bytes.
func lenOctets(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 1<<8:
		return 2
	case n < 1<<16:
		return 3
	case n < 1<<24:
		return 4
	default:
		return 5
	}
}

// tlvSize is the encoded size of an element with a one-octet tag and n content bytes.
func tlvSize(n int) int { return 1 + lenOctets(n) + n }

// intSize is the size of the minimal two's-complement contents of v.
func intSize(v int64) int {
	n := 1
	for i := v; i > 127 || i < -128; i >>= 8 {
		n++
	}
	return n
}

func appendInt(dst []byte, tag int, v int64) []byte {
	n := intSize(v)
	dst = appendHeader(dst, classUniversal, false, tag, n)
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

func appendString(dst []byte, class, tag int, s string) []byte {
	dst = appendHeader(dst, class, false, tag, len(s))
	return append(dst, s...)
}

func appendBytes(dst []byte, class, tag int, b []byte) []byte {
	dst = appendHeader(dst, class, false, tag, len(b))
	return append(dst, b...)
}

// appendEnvelope appends an LDAPMessage's header and messageID for a protocolOp of opSize
// bytes (no controls).
func appendEnvelope(dst []byte, id int, opSize int) []byte {
	idSize := tlvSize(intSize(int64(id)))
	dst = appendHeader(dst, classUniversal, true, tagSequence, idSize+opSize)
	return appendInt(dst, tagInteger, int64(id))
}

// appendEntry appends the LDAPMessage of a SearchResultEntry for e (attribute types only when
// typesOnly), as goldap encodes what sendEntries builds.
func appendEntry(dst []byte, id int, e *fakead.SearchEntry, typesOnly bool) []byte {
	attrs := 0
	for i := range e.Attributes {
		attrs += tlvSize(partialAttrSize(&e.Attributes[i], typesOnly))
	}
	body := tlvSize(len(e.DN)) + tlvSize(attrs)
	dst = appendEnvelope(dst, id, tlvSize(body))
	dst = appendHeader(dst, classApplication, true, 4, body)
	dst = appendString(dst, classUniversal, tagOctetString, e.DN)
	dst = appendHeader(dst, classUniversal, true, tagSequence, attrs)
	for i := range e.Attributes {
		a := &e.Attributes[i]
		dst = appendHeader(dst, classUniversal, true, tagSequence, partialAttrSize(a, typesOnly))
		dst = appendString(dst, classUniversal, tagOctetString, a.Name)
		vals := 0
		if !typesOnly {
			vals = valuesSize(a.Values)
		}
		dst = appendHeader(dst, classUniversal, true, tagSet, vals)
		if !typesOnly {
			for _, v := range a.Values {
				dst = appendBytes(dst, classUniversal, tagOctetString, v)
			}
		}
	}
	return dst
}

// partialAttrSize is the contents size of a PartialAttribute: type, SET OF values.
func partialAttrSize(a *fakead.Attribute, typesOnly bool) int {
	vals := 0
	if !typesOnly {
		vals = valuesSize(a.Values)
	}
	return tlvSize(len(a.Name)) + tlvSize(vals)
}

func valuesSize(vs [][]byte) int {
	n := 0
	for _, v := range vs {
		n += tlvSize(len(v))
	}
	return n
}

// appendResult appends the LDAPMessage of an LDAPResult-shaped response with application tag
// appTag for err, as goldap encodes result(err).
func appendResult(dst []byte, id int, appTag int, err error) []byte {
	code, matched, diag := resultOf(err)
	refs := referralsOf(err)
	refsSize := 0
	for _, u := range refs {
		refsSize += tlvSize(len(u))
	}
	body := tlvSize(intSize(int64(code))) + tlvSize(len(matched)) + tlvSize(len(diag))
	if len(refs) > 0 {
		body += tlvSize(refsSize)
	}
	dst = appendEnvelope(dst, id, tlvSize(body))
	dst = appendHeader(dst, classApplication, true, appTag, body)
	dst = appendInt(dst, tagEnumerated, int64(code))
	dst = appendString(dst, classUniversal, tagOctetString, matched)
	dst = appendString(dst, classUniversal, tagOctetString, diag)
	if len(refs) > 0 {
		dst = appendHeader(dst, classContext, true, 3, refsSize)
		for _, u := range refs {
			dst = appendString(dst, classUniversal, tagOctetString, u)
		}
	}
	return dst
}

// goldapEntry is what sendEntries gives the library for e.
func goldapEntry(e *fakead.SearchEntry, typesOnly bool) goldap.SearchResultEntry {
	var out goldap.SearchResultEntry
	out.SetObjectName(e.DN)
	for _, a := range e.Attributes {
		if typesOnly {
			out.AddAttribute(goldap.AttributeDescription(a.Name))
			continue
		}
		vals := make([]goldap.AttributeValue, len(a.Values))
		for i, v := range a.Values {
			vals[i] = goldap.AttributeValue(v)
		}
		out.AddAttribute(goldap.AttributeDescription(a.Name), vals...)
	}
	return out
}
