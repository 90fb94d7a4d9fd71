package keytab

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Entry is one key of an MIT keytab: a principal (service/host or account name, realm), the key's
// kvno, encryption type and bytes.
type Entry struct {
	Components []string // "http", "ITFarm1.contoso.com"; or "ITFarm1$"
	Realm      string
	NameType   uint32 // 1 = KRB_NT_PRINCIPAL, 2 = KRB_NT_SRV_INST
	Timestamp  time.Time
	KVNO       uint32
	EType      uint16
	Key        []byte
}

// Marshal writes entries in the MIT keytab format, version 0x502 (big-endian), as
// krb5/src/lib/krb5/keytab/kt_file.c reads it: each entry is a signed 32-bit length followed by
// the principal (component count, counted realm, counted components, name type), a 32-bit
// timestamp, the 8-bit kvno, the key block (type, counted contents) and the full 32-bit kvno.
func Marshal(entries []Entry) ([]byte, error) {
	var out bytes.Buffer
	out.Write([]byte{0x05, 0x02})
	for _, e := range entries {
		var b bytes.Buffer
		if len(e.Components) == 0 || len(e.Components) > 0x7fff {
			return nil, fmt.Errorf("keytab: principal with %d components", len(e.Components))
		}
		binary.Write(&b, binary.BigEndian, int16(len(e.Components)))
		for _, s := range append([]string{e.Realm}, e.Components...) {
			if len(s) > 0xffff {
				return nil, fmt.Errorf("keytab: name %.20q... too long", s)
			}
			binary.Write(&b, binary.BigEndian, uint16(len(s)))
			b.WriteString(s)
		}
		binary.Write(&b, binary.BigEndian, e.NameType)
		binary.Write(&b, binary.BigEndian, uint32(e.Timestamp.Unix()))
		b.WriteByte(byte(e.KVNO)) // the 8-bit kvno; readers prefer the 32-bit one that follows
		binary.Write(&b, binary.BigEndian, e.EType)
		binary.Write(&b, binary.BigEndian, uint16(len(e.Key)))
		b.Write(e.Key)
		binary.Write(&b, binary.BigEndian, e.KVNO)
		binary.Write(&out, binary.BigEndian, int32(b.Len()))
		out.Write(b.Bytes())
	}
	return out.Bytes(), nil
}

// principalOf splits "http/ITFarm1.contoso.com" into its components and name type.
func principalOf(name string) ([]string, uint32) {
	parts := strings.Split(name, "/")
	if len(parts) > 1 {
		return parts, 2 // KRB_NT_SRV_INST
	}
	return parts, 1 // KRB_NT_PRINCIPAL
}
