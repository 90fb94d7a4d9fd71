package fakead

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// Transcript support for gMSAs and root keys (testdata/gmsa.txt).

// rootKey runs Add-KdsRootKey at t0 as the transcript's caller: "immediately"
// (-EffectiveImmediately), "backdated" (-EffectiveTime now − 10 h) or "default" (10 days later).
func (s *tstate) rootKey(mode string) string {
	var opt fakekds.AddOptions
	switch mode {
	case "immediately":
		opt.EffectiveImmediately = true
	case "backdated":
		eff := ad.FileTimeFromTime(t0.Add(-10 * time.Hour))
		opt.EffectiveTime = &eff
	case "default", "":
	default:
		s.t.Fatalf("rootkey %q: want immediately, backdated or default", mode)
	}
	// A distinct key per call: the stream starts where the replica's key count says.
	rnd := &fixedRand{n: byte(17 * (1 + len(s.d.KDSRootKeys())))}
	rk, err := fakekds.AddKdsRootKey(rnd, ad.FileTimeFromTime(t0), "CN=DC1,OU=Domain Controllers,DC=contoso,DC=com", opt)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var attrs []Attribute
	for _, a := range rk.Attributes() {
		attrs = append(attrs, Attribute{Name: a.Name, Values: a.Values})
	}
	if err := s.d.Add(t0, s.c, rk.DN(s.d.DomainDN()), attrs); err != nil {
		return errText(err)
	}
	return fmt.Sprintf("ok key=%s use-start=%s\n", rk.ID, rk.UseStartTime.Time().Format("2006-01-02T15:04:05Z"))
}

// gmsaValue turns "allow NAME, NAME" for msDS-GroupMSAMembership into the descriptor the AD module
// writes; other values pass through.
func (s *tstate) gmsaValue(name string, v []byte) []byte {
	list, ok := strings.CutPrefix(string(v), "allow ")
	if !strings.EqualFold(name, "msDS-GroupMSAMembership") || !ok {
		return v
	}
	var sids []string
	for _, n := range strings.Split(list, ",") {
		a, found := s.d.Account(strings.TrimSpace(n))
		if !found {
			s.t.Fatalf("allow %q: no such principal", n)
		}
		sids = append(sids, a.SID.String())
	}
	sd, err := ad.GMSAMembershipSD(sids...)
	if err != nil {
		s.t.Fatal(err)
	}
	return sd
}

// showGMSAValue decodes the gMSA attributes for display.
func showGMSAValue(name string, v []byte) (string, bool) {
	switch strings.ToLower(name) {
	case "msds-groupmsamembership":
		sd, err := ad.ParseSecurityDescriptor(v)
		if err != nil {
			return "", false
		}
		var b strings.Builder
		if sd.Owner != nil {
			b.WriteString("O:" + sd.Owner.String())
		}
		b.WriteString("D:")
		for _, a := range sd.DACL {
			kind := "A"
			if a.Type == ad.ACEAccessDenied || a.Type == ad.ACEAccessDeniedObject {
				kind = "D"
			}
			fmt.Fprintf(&b, "(%s;;0x%x;;;%s)", kind, a.Mask, a.SID)
		}
		return b.String(), true
	case "msds-managedpasswordid", "msds-managedpasswordpreviousid":
		id, err := fakekds.ParsePasswordID(v)
		if err != nil {
			return "", false
		}
		return fmt.Sprintf("key=%s gkid=%v domain=%s", id.RootKeyID, id.GKID, id.Domain), true
	case "msds-managedpassword":
		blob, err := fakekds.ParseManagedPasswordBlob(v)
		if err != nil {
			return "", false
		}
		prev := "none"
		if blob.Previous != nil {
			prev = hex.EncodeToString(fakekds.NTHash(blob.Previous))
		}
		return fmt.Sprintf("blob current-nt=%s previous-nt=%s query=%d", hex.EncodeToString(fakekds.NTHash(blob.Current)), prev, blob.QueryInterval), true
	}
	return "", false
}
