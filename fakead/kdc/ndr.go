package kdc

import (
	"encoding/binary"
	"time"
	"unicode/utf16"

	"github.com/gmsasim/gmsasim/ad"
)

// ndrWriter writes NDR (DCE 1.1 RPC, little-endian) as a type-serialization-1 stream, the
// encoding of the PAC's KERB_VALIDATION_INFO ([MS-PAC] 2.5, [MS-RPCE] 2.2.6).
type ndrWriter struct {
	b   []byte
	ref uint32
}

func (w *ndrWriter) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *ndrWriter) u8(v uint8) { w.b = append(w.b, v) }

func (w *ndrWriter) u16(v uint16) {
	w.align(2)
	w.b = binary.LittleEndian.AppendUint16(w.b, v)
}

func (w *ndrWriter) u32(v uint32) {
	w.align(4)
	w.b = binary.LittleEndian.AppendUint32(w.b, v)
}

// pointer writes a unique pointer's referent id (0 for null).
func (w *ndrWriter) pointer(present bool) {
	if !present {
		w.u32(0)
		return
	}
	w.ref += 4
	w.u32(0x00020000 + w.ref)
}

// filetime writes a FILETIME (two ulongs).
func (w *ndrWriter) filetime(ft uint64) {
	w.u32(uint32(ft))
	w.u32(uint32(ft >> 32))
}

// unicodeString writes the fixed part of an RPC_UNICODE_STRING; its buffer is deferred.
func (w *ndrWriter) unicodeString(s []uint16) {
	w.u16(uint16(2 * len(s)))
	w.u16(uint16(2 * len(s)))
	w.pointer(true)
}

// unicodeBuffer writes the deferred buffer of an RPC_UNICODE_STRING: a conformant varying array.
func (w *ndrWriter) unicodeBuffer(s []uint16) {
	w.u32(uint32(len(s))) // maximum count
	w.u32(0)              // offset
	w.u32(uint32(len(s))) // actual count
	for _, c := range s {
		w.u16(c)
	}
}

// sid writes an RPC_SID: its conformant SubAuthority count, then the SID's binary form
// (revision, count, 6-byte authority, little-endian subauthorities), which is aligned as NDR
// wants it after the 4-byte count.
func (w *ndrWriter) sid(s ad.SID) {
	w.u32(uint32(len(s.SubAuthority)))
	w.b = append(w.b, s.Bytes()...)
}

// stream wraps the body in the common and private headers of type serialization version 1.
func (w *ndrWriter) stream() []byte {
	w.align(8)
	out := []byte{0x01, 0x10, 0x08, 0x00, 0xcc, 0xcc, 0xcc, 0xcc}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(w.b)))
	out = binary.LittleEndian.AppendUint32(out, 0)
	return append(out, w.b...)
}

func utf16Of(s string) []uint16 { return utf16.Encode([]rune(s)) }

// fileTime converts t to a FILETIME; the zero time is 0.
func fileTime(t time.Time) uint64 { return uint64(ad.FileTimeFromTime(t)) }

// neverFileTime is "never" in a KERB_VALIDATION_INFO ([MS-PAC] 2.5).
const neverFileTime = 0x7fffffffffffffff
