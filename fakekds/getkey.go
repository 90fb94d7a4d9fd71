package fakekds

import "github.com/gmsasim/gmsasim/ad"

// GetKeyReply is the seed-key part of an [MS-GKDI] GetKey answer (the GroupKeyEnvelope without
// its algorithm fields): the GKID the answer is built for, and the L1 and L2 seed keys it hands
// out (nil when absent).
type GetKeyReply struct {
	GKID  GKID
	L1Key []byte // the L1 seed key (L0,L1,−1) when GKID.L2 == 31, else (L0,L1−1,−1)
	L2Key []byte // the L2 seed key GKID, absent when GKID.L2 == 31
}

// GetKey answers a GetKey request for requested (an L2 GKID) with key rk and target security
// descriptor sd at time now, the way Windows shapes the reply (Samba's emulation, checked
// against Windows by Samba's GkdiExplicitRootKeyTests):
//
//   - a request for an older L0 gets only the L1 key (L0,31,−1), with GKID (L0,31,31);
//   - otherwise the answer is for the current GKID: if its L2 is 31, only the L1 key
//     (L0,L1,−1); else the L2 key plus, when L1 > 0, the L1 key (L0,L1−1,−1).
//
// Requests for an L0 or L1 key, or for a GKID later than now, fail with ErrInvalidGKID. The
// caller is responsible for authorising the caller against sd and for picking rk.
func (d *Deriver) GetKey(rk *RootKey, sd []byte, requested GKID, now ad.FileTime) (GetKeyReply, error) {
	if err := requested.Validate(); err != nil {
		return GetKeyReply{}, err
	}
	if !requested.IsL2() {
		return GetKeyReply{}, errorf("GetKey", ErrInvalidGKID, "%v is not an L2 seed key identifier", requested)
	}
	current := GKIDFromFileTime(now)
	if current.Less(requested) {
		return GetKeyReply{}, errorf("GetKey", ErrInvalidGKID, "%v lies after the current interval %v", requested, current)
	}
	var r GetKeyReply
	var err error
	switch {
	case requested.L0 < current.L0:
		r.GKID = GKID{requested.L0, L1KeyIteration - 1, L2KeyIteration - 1}
		r.L1Key, err = d.SeedKey(rk, sd, GKID{requested.L0, L1KeyIteration - 1, -1})
	case current.L2 == L2KeyIteration-1:
		r.GKID = current
		r.L1Key, err = d.SeedKey(rk, sd, GKID{current.L0, current.L1, -1})
	default:
		r.GKID = current
		if r.L2Key, err = d.SeedKey(rk, sd, current); err == nil && current.L1 > 0 {
			r.L1Key, err = d.SeedKey(rk, sd, GKID{current.L0, current.L1 - 1, -1})
		}
	}
	if err != nil {
		return GetKeyReply{}, err
	}
	return r, nil
}
