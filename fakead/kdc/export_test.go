package kdc

import (
	"net"

	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// ServeConn serves c as if the TCP listener had accepted it, cap included. Tests hand in an end
// of net.Pipe, whose writes block until the other end reads: a client that never reads, without
// filling a kernel's socket buffers.
func (s *Server) ServeConn(c net.Conn) { s.admit(c) }

// Datagram answers one UDP datagram as the UDP listener does; nil means it is dropped.
func (s *Server) Datagram(req []byte) []byte { return s.datagram(req) }

// DecodeKDCReq decodes an AS-REQ or TGS-REQ (by its first byte) as the KDC does; direct says
// whether the direct decoder took it (else gokrb5's Unmarshal did).
func DecodeKDCReq(b []byte) (f messages.KDCReqFields, direct bool, err error) {
	if len(b) > 0 && b[0] == 0x6c {
		if f, ok := directKDCReq(b, 0x6c, msgtype.KRB_TGS_REQ); ok {
			return f, true, nil
		}
		r, err := decodeTGSReq(b)
		return r.KDCReqFields, false, err
	}
	if f, ok := directKDCReq(b, 0x6a, msgtype.KRB_AS_REQ); ok {
		return f, true, nil
	}
	r, err := decodeASReq(b)
	return r.KDCReqFields, false, err
}

// DecodeEncTicketPart decodes a ticket's decrypted part as the TGS does; direct says whether the
// direct decoder took it.
func DecodeEncTicketPart(b []byte) (p messages.EncTicketPart, direct bool, err error) {
	if p, ok := directEncTicketPart(b); ok {
		return p, true, nil
	}
	p, err = decodeEncTicketPart(b)
	return p, false, err
}

// DecodeAPReq decodes the AP-REQ of a PA-TGS-REQ as the TGS does; direct says whether the direct
// decoder took it.
func DecodeAPReq(b []byte) (a messages.APReq, direct bool, err error) {
	if a, ok := directAPReq(b); ok {
		return a, true, nil
	}
	a, err = decodeAPReq(b)
	return a, false, err
}

// DecodeAuthenticator decodes a decrypted Authenticator as the TGS does; direct says whether the
// direct decoder took it.
func DecodeAuthenticator(b []byte) (a types.Authenticator, direct bool, err error) {
	if a, ok := directAuthenticator(b); ok {
		return a, true, nil
	}
	a, err = decodeAuthenticator(b)
	return a, false, err
}

// DecodeEncryptedData decodes an EncryptedData (PA-ENC-TIMESTAMP's value) as the AS does; direct
// says whether the direct decoder took it.
func DecodeEncryptedData(b []byte) (e types.EncryptedData, direct bool, err error) {
	if e, ok := directEncryptedDataSeq(b); ok {
		return e, true, nil
	}
	e, err = decodeEncryptedData(b)
	return e, false, err
}

// DecodePAEncTSEnc decodes a decrypted PA-ENC-TS-ENC as the AS does; direct says whether the
// direct decoder took it.
func DecodePAEncTSEnc(b []byte) (ts types.PAEncTSEnc, direct bool, err error) {
	if ts, ok := directPAEncTSEnc(b); ok {
		return ts, true, nil
	}
	ts, err = decodePAEncTSEnc(b)
	return ts, false, err
}
