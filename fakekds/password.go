package fakekds

import "github.com/gmsasim/gmsasim/ad"

// PasswordLength is the size of a gMSA password: 256 bytes, 128 UTF-16 code units.
const PasswordLength = 256

// gmsaPasswordLabel is "GMSA PASSWORD" as UTF-16LE including its U+0000 (28 bytes).
var gmsaPasswordLabel = UTF16Z("GMSA PASSWORD")

// PostProcessPassword applies PostProcessPasswordBuffer ([MS-ADTS] 3.1.1.4.5.39): every 2-byte
// unit equal to 00 00 becomes 01 00, so that the password is a string without embedded NULs.
// All 256 bytes are kept; the blob appends its own 00 00 terminator. It returns a new slice.
func PostProcessPassword(raw []byte) []byte {
	out := append([]byte(nil), raw...)
	for i := 0; i+1 < len(out); i += 2 {
		if out[i] == 0 && out[i+1] == 0 {
			out[i] = 1
		}
	}
	return out
}

// RawPassword derives the 256-byte KDF output for the gMSA with the given SID from the L2 seed
// key g of rk, before post-processing.
func (d *Deriver) RawPassword(rk *RootKey, g GKID, sid ad.SID) ([]byte, error) {
	if !g.IsL2() {
		return nil, errorf("Password", ErrInvalidGKID, "%v is not an L2 key identifier", g)
	}
	l2, err := d.seedKey(rk, GMSASecurityDescriptor, g)
	if err != nil {
		return nil, err
	}
	h, _ := rk.HashAlg()
	return d.kdf(h, l2, gmsaPasswordLabel, sid.Bytes(), PasswordLength)
}

// Password derives the gMSA password (256 bytes, post-processed) for the account with the given
// SID in interval g of root key rk: KDF(H, L2key(g, gMSA SD), "GMSA PASSWORD", SID, 256 bytes).
func (d *Deriver) Password(rk *RootKey, g GKID, sid ad.SID) ([]byte, error) {
	raw, err := d.RawPassword(rk, g, sid)
	if err != nil {
		return nil, err
	}
	return PostProcessPassword(raw), nil
}

// GMSAPassword derives a gMSA password without a cache (see Deriver.Password).
func GMSAPassword(rk *RootKey, g GKID, sid ad.SID) ([]byte, error) {
	return (*Deriver)(nil).Password(rk, g, sid)
}
