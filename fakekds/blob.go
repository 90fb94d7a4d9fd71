package fakekds

import (
	"encoding/binary"

	"github.com/gmsasim/gmsasim/ad"
)

const blobHeader = 16

// ManagedPasswordBlob is MSDS-MANAGEDPASSWORD_BLOB ([MS-ADTS] 2.2.19), the value of
// msDS-ManagedPassword:
//
//	Version u16 = 1 | Reserved u16 = 0 | Length u32 |
//	CurrentPasswordOffset u16 | PreviousPasswordOffset u16 (0 = none) |
//	QueryPasswordIntervalOffset u16 | UnchangedPasswordIntervalOffset u16 |
//	CurrentPassword (UTF-16LE + 00 00) | [PreviousPassword + 00 00] |
//	QueryPasswordInterval u64 | UnchangedPasswordInterval u64
//
// Divergence: none from Windows output, but from the letter of MS-ADTS: the spec draws
// AlignmentPadding so the intervals are 8-byte aligned; Windows writes them right after the
// passwords (offset 274 for one password), and so does Marshal.
type ManagedPasswordBlob struct {
	Current  []byte // 256 bytes for a gMSA, without the 00 00 terminator
	Previous []byte // nil when the blob carries no previous password
	// QueryInterval is the time until the current password expires (100 ns units).
	QueryInterval ad.FileTime
	// UnchangedInterval is the time during which the password will not change (100 ns units).
	UnchangedInterval ad.FileTime
}

// Marshal lays the blob out exactly as Windows does: offsets 16 / 0 / 274 / 282 and Length
// 290 without a previous password; 16 / 274 / 532 / 540 and Length 548 with one.
// Divergence: the layout with a previous password is Samba's (the same unpadded rule); no
// public Windows blob with a previous password exists to confirm it.
func (m *ManagedPasswordBlob) Marshal() []byte {
	cur := uint16(blobHeader)
	prev := uint16(0)
	q := cur + uint16(len(m.Current)) + 2
	if m.Previous != nil {
		prev = q
		q = prev + uint16(len(m.Previous)) + 2
	}
	u := q + 8
	total := int(u) + 8
	b := make([]byte, 0, total)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	for _, off := range []uint16{cur, prev, q, u} {
		b = binary.LittleEndian.AppendUint16(b, off)
	}
	b = append(append(b, m.Current...), 0, 0)
	if m.Previous != nil {
		b = append(append(b, m.Previous...), 0, 0)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(m.QueryInterval))
	return binary.LittleEndian.AppendUint64(b, uint64(m.UnchangedInterval))
}

// ParseManagedPasswordBlob parses msDS-ManagedPassword. Passwords are the UTF-16LE units from
// their offset up to (not including) the first 00 00 unit; Length must equal len(b); every
// offset must lie inside the blob. Re-marshalling a blob Windows produced gives identical bytes.
func ParseManagedPasswordBlob(b []byte) (*ManagedPasswordBlob, error) {
	const op = "ParseManagedPasswordBlob"
	if len(b) < blobHeader {
		return nil, errorf(op, ErrMalformed, "%d bytes, the header alone is %d", len(b), blobHeader)
	}
	u16 := func(off int) int { return int(binary.LittleEndian.Uint16(b[off:])) }
	if v := u16(0); v != 1 {
		return nil, errorf(op, ErrMalformed, "version %d, want 1", v)
	}
	if r := u16(2); r != 0 {
		return nil, errorf(op, ErrMalformed, "reserved field %d, want 0", r)
	}
	if n := binary.LittleEndian.Uint32(b[4:]); uint64(n) != uint64(len(b)) {
		return nil, errorf(op, ErrMalformed, "Length field %d, blob has %d bytes", n, len(b))
	}
	cur, prev, q, u := u16(8), u16(10), u16(12), u16(14)
	if cur < blobHeader {
		return nil, errorf(op, ErrMalformed, "CurrentPasswordOffset %d points into the header", cur)
	}
	if prev != 0 && prev < blobHeader {
		return nil, errorf(op, ErrMalformed, "PreviousPasswordOffset %d points into the header", prev)
	}
	for i, off := range []int{q, u} {
		if off < blobHeader || off+8 > len(b) {
			name := [2]string{"QueryPasswordIntervalOffset", "UnchangedPasswordIntervalOffset"}[i]
			return nil, errorf(op, ErrMalformed, "%s %d: 8 bytes do not fit in %d", name, off, len(b))
		}
	}
	m := &ManagedPasswordBlob{
		QueryInterval:     ad.FileTime(binary.LittleEndian.Uint64(b[q:])),
		UnchangedInterval: ad.FileTime(binary.LittleEndian.Uint64(b[u:])),
	}
	var err error
	if m.Current, err = wstring(b, cur); err != nil {
		return nil, errorf(op, ErrMalformed, "current password: %v", err)
	}
	if prev != 0 {
		if m.Previous, err = wstring(b, prev); err != nil {
			return nil, errorf(op, ErrMalformed, "previous password: %v", err)
		}
	}
	return m, nil
}

// wstring returns the UTF-16LE units at off up to the first 00 00 unit (copied).
func wstring(b []byte, off int) ([]byte, error) {
	for i := off; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return append([]byte{}, b[off:i]...), nil
		}
	}
	return nil, errorf("wstring", ErrMalformed, "no 00 00 terminator after offset %d", off)
}
