package ldapsrv

import (
	"errors"
	"fmt"
)

// A minimal BER codec: enough to frame, validate, normalise and build LDAP messages without
// depending on goldap's decoder (which panics, recurses without bound and rejects valid BER).
// It accepts what RFC 4511 5.1 allows a sender (definite lengths, long-form lengths with leading
// zeros, long-form tags) and always encodes minimally.

// BER identifier classes.
const (
	classUniversal   = 0
	classApplication = 1
	classContext     = 2
)

// Universal tags used by LDAP.
const (
	tagBoolean     = 1
	tagInteger     = 2
	tagOctetString = 4
	tagEnumerated  = 10
	tagSequence    = 16
	tagSet         = 17
)

// maxDepth bounds the nesting of constructed elements in one request. goldap decodes recursively
// and a deeply nested filter (a few bytes per level) would otherwise exhaust the goroutine stack,
// which is a fatal error, not a recoverable panic.
const maxDepth = 64

var errBER = errors.New("malformed BER")

// tlv is one decoded BER element. Constructed elements hold children, primitive ones value.
type tlv struct {
	class       int
	constructed bool
	tag         int
	value       []byte // primitive contents (aliases the input)
	children    []*tlv
}

// readHeader parses an identifier and a definite length at b[0:]. It returns the header size and
// the content length. Indefinite lengths, more than 4 length octets and tags above 2^21 fail.
func readHeader(b []byte) (class int, constructed bool, tag, hdrLen, length int, err error) {
	if len(b) < 2 {
		return 0, false, 0, 0, 0, fmt.Errorf("%w: truncated header", errBER)
	}
	class = int(b[0] >> 6)
	constructed = b[0]&0x20 != 0
	tag = int(b[0] & 0x1f)
	i := 1
	if tag == 0x1f {
		tag = 0
		for n := 0; ; n++ {
			if i >= len(b) || n == 3 {
				return 0, false, 0, 0, 0, fmt.Errorf("%w: bad long-form tag", errBER)
			}
			c := b[i]
			i++
			tag = tag<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return 0, false, 0, 0, 0, fmt.Errorf("%w: truncated length", errBER)
	}
	l := b[i]
	i++
	switch {
	case l < 0x80:
		length = int(l)
	case l == 0x80:
		return 0, false, 0, 0, 0, fmt.Errorf("%w: indefinite length", errBER)
	default:
		n := int(l & 0x7f)
		if n > 4 || i+n > len(b) {
			return 0, false, 0, 0, 0, fmt.Errorf("%w: bad length", errBER)
		}
		for _, c := range b[i : i+n] {
			length = length<<8 | int(c)
		}
		i += n
		if length < 0 || length > 1<<31-1 {
			return 0, false, 0, 0, 0, fmt.Errorf("%w: length too large", errBER)
		}
	}
	return class, constructed, tag, i, length, nil
}

// parseTLV decodes exactly one element filling all of b.
func parseTLV(b []byte) (*tlv, error) {
	t, n, err := parseOne(b, 0)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBER, len(b)-n)
	}
	return t, nil
}

func parseOne(b []byte, depth int) (*tlv, int, error) {
	class, constructed, tag, h, l, err := readHeader(b)
	if err != nil {
		return nil, 0, err
	}
	if l > len(b)-h {
		return nil, 0, fmt.Errorf("%w: element truncated", errBER)
	}
	t := &tlv{class: class, constructed: constructed, tag: tag}
	content := b[h : h+l]
	if !constructed {
		t.value = content
		return t, h + l, nil
	}
	if depth >= maxDepth {
		return nil, 0, fmt.Errorf("%w: nesting deeper than %d", errBER, maxDepth)
	}
	for len(content) > 0 {
		c, n, err := parseOne(content, depth+1)
		if err != nil {
			return nil, 0, err
		}
		t.children = append(t.children, c)
		content = content[n:]
	}
	return t, h + l, nil
}

// checkTLV accepts exactly what parseTLV accepts, with the same errors, without building the
// tree: the framing layer checks every request PDU with it and builds a tree only for the few
// goldap cannot decode as sent (normalize.go).
func checkTLV(b []byte) error {
	n, err := checkOne(b, 0)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("%w: %d trailing bytes", errBER, len(b)-n)
	}
	return nil
}

// checkOne is parseOne without the tree.
func checkOne(b []byte, depth int) (int, error) {
	_, constructed, _, h, l, err := readHeader(b)
	if err != nil {
		return 0, err
	}
	if l > len(b)-h {
		return 0, fmt.Errorf("%w: element truncated", errBER)
	}
	if !constructed {
		return h + l, nil
	}
	if depth >= maxDepth {
		return 0, fmt.Errorf("%w: nesting deeper than %d", errBER, maxDepth)
	}
	for content := b[h : h+l]; len(content) > 0; {
		n, err := checkOne(content, depth+1)
		if err != nil {
			return 0, err
		}
		content = content[n:]
	}
	return h + l, nil
}

// encode appends the minimal encoding of t to dst.
func (t *tlv) encode(dst []byte) []byte {
	if !t.constructed {
		return appendTLV(dst, t.class, false, t.tag, t.value)
	}
	var body []byte
	for _, c := range t.children {
		body = c.encode(body)
	}
	return appendTLV(dst, t.class, true, t.tag, body)
}

// appendHeader appends an identifier and a minimal definite length.
func appendHeader(dst []byte, class int, constructed bool, tag, length int) []byte {
	id := byte(class << 6)
	if constructed {
		id |= 0x20
	}
	if tag < 0x1f {
		dst = append(dst, id|byte(tag))
	} else {
		dst = append(dst, id|0x1f)
		var tmp [4]byte
		n := 0
		for v := tag; ; v >>= 7 {
			tmp[n] = byte(v & 0x7f)
			n++
			if v < 0x80 {
				break
			}
		}
		for i := n - 1; i >= 0; i-- {
			c := tmp[i]
			if i > 0 {
				c |= 0x80
			}
			dst = append(dst, c)
		}
	}
	switch {
	case length < 0x80:
		return append(dst, byte(length))
	case length < 1<<8:
		return append(dst, 0x81, byte(length))
	case length < 1<<16:
		return append(dst, 0x82, byte(length>>8), byte(length))
	case length < 1<<24:
		return append(dst, 0x83, byte(length>>16), byte(length>>8), byte(length))
	default:
		return append(dst, 0x84, byte(length>>24), byte(length>>16), byte(length>>8), byte(length))
	}
}

func appendTLV(dst []byte, class int, constructed bool, tag int, content []byte) []byte {
	dst = appendHeader(dst, class, constructed, tag, len(content))
	return append(dst, content...)
}

// Builders for encoding responses.

func berSeq(class, tag int, children ...[]byte) []byte {
	n := 0
	for _, c := range children {
		n += len(c)
	}
	out := appendHeader(make([]byte, 0, n+6), class, true, tag, n)
	for _, c := range children {
		out = append(out, c...)
	}
	return out
}

func berOctets(class, tag int, v []byte) []byte { return appendTLV(nil, class, false, tag, v) }

func berString(s string) []byte { return berOctets(classUniversal, tagOctetString, []byte(s)) }

func berInt(class, tag int, v int64) []byte {
	// Two's complement, minimal.
	n := 1
	for i := v; i > 127 || i < -128; i >>= 8 {
		n++
	}
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return appendTLV(nil, class, false, tag, b)
}

func berBool(v bool) []byte {
	if v {
		return []byte{0x01, 0x01, 0xff}
	}
	return []byte{0x01, 0x01, 0x00}
}

// parseInt decodes a BER INTEGER's contents (at most 8 octets).
func parseInt(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 8 {
		return 0, fmt.Errorf("%w: integer of %d octets", errBER, len(v))
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, nil
}
