package ldapsrv

// A hand-written decoder for the request clients send most: a simple BindRequest without
// controls. goldap's decoding of it was a tenth of the server's CPU per bind. It accepts only the
// minimal (DER) encoding every client sends, and nothing around it; anything else — other
// encodings, controls, SASL, trailing bytes — takes goldap's path as before. FuzzSimpleBind
// checks that whatever it accepts goldap decodes to the same message ID, version, name and
// password; TestSimpleBindDecoding that the usual clients' binds are accepted.

// simpleBindReq is a decoded simple BindRequest.
type simpleBindReq struct {
	version        int
	name, password string
}

// parseSimpleBind decodes pdu (one whole LDAPMessage) when it is exactly a DER-encoded simple
// BindRequest without controls.
func parseSimpleBind(pdu []byte) (id int, b simpleBindReq, ok bool) {
	msg, rest, ok := derElement(pdu, 0x30)
	if !ok || len(rest) != 0 {
		return 0, b, false
	}
	idv, msg, ok := derInteger(msg)
	if !ok || idv < 0 || idv > maxMessageID {
		return 0, b, false
	}
	op, rest, ok := derElement(msg, 0x60) // [APPLICATION 0] BindRequest
	if !ok || len(rest) != 0 {            // nothing after the operation: no controls
		return 0, b, false
	}
	v, op, ok := derInteger(op)
	if !ok || v < 1 || v > 127 { // goldap's bounds; the handler answers versions other than 2 and 3
		return 0, b, false
	}
	name, op, ok := derElement(op, 0x04)
	if !ok {
		return 0, b, false
	}
	pw, op, ok := derElement(op, 0x80) // [0] simple
	if !ok || len(op) != 0 {
		return 0, b, false
	}
	return int(idv), simpleBindReq{version: int(v), name: string(name), password: string(pw)}, true
}

// derElement reads an element with identifier octet id and a minimal definite length at the
// start of b: its contents and what follows it.
func derElement(b []byte, id byte) (content, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != id {
		return nil, nil, false
	}
	n, h := int(b[1]), 2
	if b[1] >= 0x80 {
		k := int(b[1] & 0x7f)
		if k == 0 || k > 3 || len(b) < 2+k || b[2] == 0 {
			return nil, nil, false // indefinite, too long or not minimal
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		h = 2 + k
		if n < 0x80 {
			return nil, nil, false // not minimal
		}
	}
	if n > len(b)-h {
		return nil, nil, false
	}
	return b[h : h+n], b[h+n:], true
}

// derInteger reads a minimally encoded INTEGER of at most 4 octets at the start of b.
func derInteger(b []byte) (v int64, rest []byte, ok bool) {
	c, rest, ok := derElement(b, 0x02)
	if !ok || len(c) == 0 || len(c) > 4 {
		return 0, nil, false
	}
	if len(c) > 1 && (c[0] == 0 && c[1] < 0x80 || c[0] == 0xff && c[1] >= 0x80) {
		return 0, nil, false // not minimal
	}
	v = int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	return v, rest, true
}
