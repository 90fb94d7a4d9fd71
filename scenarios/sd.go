package scenarios

import "github.com/gmsasim/gmsasim/ad"

// The msDS-GroupMSAMembership value the AD module writes for
// -PrincipalsAllowedToRetrieveManagedPassword: a self-relative security descriptor
// "O:S-1-5-32-544D:(A;;0xf01ff;;;SID)...", built and parsed by package ad.

// buildGMSAMembershipSD builds the binary self-relative security descriptor granting sids.
func buildGMSAMembershipSD(sids []string) ([]byte, error) {
	return ad.GMSAMembershipSD(sids...)
}

// parseGMSAMembershipSD returns the SIDs of the ACCESS_ALLOWED ACEs of the descriptor's DACL.
func parseGMSAMembershipSD(b []byte) ([]string, error) {
	sd, err := ad.ParseSecurityDescriptor(b)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range sd.AllowedSIDs() {
		out = append(out, s.String())
	}
	return out, nil
}
