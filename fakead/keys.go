package fakead

// The password-derived secrets the directory stores. Kept in this one file so the implementation
// can be swapped for fakekds's once both sides agree on it.

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/gmsasim/gmsasim/fakekds"
)

// Kerberos encryption type numbers ([RFC 3962]).
const (
	EtypeAES128 = 17
	EtypeAES256 = 18
	EtypeRC4    = 23
)

// NTHash is MD4 of the UTF-16LE password ([MS-NLMP] 3.3.1 NTOWFv1).
func NTHash(password string) []byte { return fakekds.NTHashString(password) }

// KerberosSalt is the AES salt AD uses: users REALM+sAMAccountName; computers (and gMSAs)
// REALM+"host"+lower(name without $)+"."+lower(DNS domain) ([MS-KILE] 3.1.1.2).
func KerberosSalt(dnsDomain, samAccountName string, computer bool) string {
	if computer {
		return fakekds.MachineSalt(dnsDomain, samAccountName)
	}
	return fakekds.UserSalt(dnsDomain, samAccountName)
}

// Keys are an account's long-term secrets.
type Keys struct {
	NTHash []byte
	AES128 []byte
	AES256 []byte
	Salt   string
}

// deriveKeys derives an account's keys from its password (through the domain's memo).
func (d *Directory) deriveKeys(password, salt string) (Keys, error) {
	k, err := d.dom.keys.KeysFromString(password, salt)
	if err != nil {
		return Keys{NTHash: NTHash(password), Salt: salt}, err
	}
	return Keys{NTHash: k.NTHash, AES128: k.AES128, AES256: k.AES256, Salt: salt}, nil
}

// encodeSupplemental packs the Kerberos keys for the supplementalCredentials attribute.
// Divergence: AD stores a USER_PROPERTIES blob ([MS-SAMR] 2.2.10.1, "Primary:Kerberos-Newer-Keys");
// ours is a private layout: "GMSASIM1", salt (uint16 length + bytes), then per key etype (int32),
// length (uint16), bytes. It never holds the plaintext.
func encodeSupplemental(k Keys) []byte {
	var b bytes.Buffer
	b.WriteString("GMSASIM1")
	binary.Write(&b, binary.LittleEndian, uint16(len(k.Salt)))
	b.WriteString(k.Salt)
	for _, x := range []struct {
		et  int32
		key []byte
	}{{EtypeAES256, k.AES256}, {EtypeAES128, k.AES128}} {
		binary.Write(&b, binary.LittleEndian, x.et)
		binary.Write(&b, binary.LittleEndian, uint16(len(x.key)))
		b.Write(x.key)
	}
	return b.Bytes()
}

var errSupplemental = errors.New("supplementalCredentials: malformed")

func decodeSupplemental(p []byte, k *Keys) error {
	if !bytes.HasPrefix(p, []byte("GMSASIM1")) {
		return errSupplemental
	}
	p = p[8:]
	if len(p) < 2 {
		return errSupplemental
	}
	n := int(binary.LittleEndian.Uint16(p))
	p = p[2:]
	if len(p) < n {
		return errSupplemental
	}
	k.Salt, p = string(p[:n]), p[n:]
	for len(p) > 0 {
		if len(p) < 6 {
			return errSupplemental
		}
		et := int32(binary.LittleEndian.Uint32(p))
		n := int(binary.LittleEndian.Uint16(p[4:]))
		p = p[6:]
		if len(p) < n {
			return errSupplemental
		}
		switch et {
		case EtypeAES256:
			k.AES256 = append([]byte(nil), p[:n]...)
		case EtypeAES128:
			k.AES128 = append([]byte(nil), p[:n]...)
		}
		p = p[n:]
	}
	return nil
}
