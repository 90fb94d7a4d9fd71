package harness_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gmsasim/gmsasim/harness"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// The lifecycle a Go user writes (issue 16): two DCs with a link delay, a root key, a gMSA for a
// host's group, a rotation — with package sim's API and the harness's matchers only: no fakead, no
// fakekds, no attribute names.
var _ = Describe("a gMSA's life through the Go API", Label("api"), func() {
	It("replicates, installs on a host, rotates at 30 days and keeps the previous key", func() {
		w, err := sim.New(sim.Config{Seed: 11, DCs: []sim.DCSpec{{Name: "DC1", OS: "2016"}, {Name: "DC2", OS: "2019"}}, LinkDelay: 30 * time.Minute})
		Expect(err).NotTo(HaveOccurred())
		Expect(w.NewGroup("DC1", "FarmHosts")).To(Succeed())
		_, err = w.AddRootKey("DC1", sim.RootKeyOptions{EffectiveTime: w.Now().Add(-10 * time.Hour)})
		Expect(err).NotTo(HaveOccurred())
		Expect(w.Advance(31 * time.Minute)).To(Succeed()) // the group and the key reach DC2

		web1, err := host.NewFleet(w).Add(host.Spec{Name: "WEB1", OS: "2019", DC: "DC2", Groups: []string{"FarmHosts"}})
		Expect(err).NotTo(HaveOccurred())
		g, err := w.NewGMSA("DC1", sim.GMSASpec{Name: "Farm", DNSHostName: "farm.contoso.com",
			PrincipalsAllowedToRetrieve: []string{"FarmHosts"}, SPNs: []string{"http/farm.contoso.com"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(g.SAMAccountName).To(Equal("Farm$"))
		Expect(w).To(harness.HaveObjectOn("DC1", "Farm"))
		Expect(w).NotTo(harness.HaveObjectOn("DC2", "Farm"))
		Expect(web1.InstallADServiceAccount("Farm")).NotTo(Succeed()) // its DC has not seen it yet
		Expect(w.Advance(31 * time.Minute)).To(Succeed())
		Expect(w).To(harness.HaveObjectOn("DC2", "Farm"))

		Expect(web1.InstallADServiceAccount("Farm")).To(Succeed())
		res, err := web1.TestADServiceAccount("Farm")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.String()).To(Equal("True"))
		readAt := w.Now()
		p1, err := w.ReadManagedPassword("DC2", "WEB1$", "Farm")
		Expect(err).NotTo(HaveOccurred())
		rotation := readAt.Add(p1.QueryInterval) // when the DC stops serving this password
		Expect(p1.KVNO).To(Equal(1))
		Expect(web1).To(harness.HaveCachedPassword("Farm", p1.Current, nil))
		Expect(w).To(harness.AllowPasswordRead("DC1", "WEB1$", "Farm"))
		Expect(w).NotTo(harness.AllowPasswordRead("DC1", "Administrator", "Farm"))

		// An hour before the rotation a client gets a ticket; two hours later the password has
		// rotated and the ticket, still within its 10 hours, decrypts with the previous key.
		Expect(w.AdvanceTo(rotation.Add(-time.Hour))).To(Succeed())
		before, err := web1.ServiceTicket("http/farm.contoso.com")
		Expect(err).NotTo(HaveOccurred())
		Expect(before.KVNO).To(BeEquivalentTo(1))
		Expect(before).To(harness.DecryptOn(web1))
		Expect(w.Advance(2 * time.Hour)).To(Succeed())
		p2, err := w.ReadManagedPassword("DC1", "WEB1$", "Farm") // the read rotates, as on a DC
		Expect(err).NotTo(HaveOccurred())
		Expect(p2.KVNO).To(Equal(2))
		// The first rotation comes at the end of the creation's 10-hour KDS interval plus 30 days,
		// before the account is 30 days old: a DC returns the previous password only from that age
		// on ([MS-ADTS] 3.1.1.4.5.39), so the blob has none yet; the host keeps its own.
		Expect(p2.Previous).To(BeNil())
		Expect(w).To(harness.HaveStoredKVNO("DC1", "Farm", 2))
		Expect(w).To(harness.Converge())
		Expect(w).To(harness.HaveStoredKVNO("DC2", "Farm", 2))
		Expect(web1).To(harness.HaveCachedPassword("Farm", p2.Current, p1.Current)) // the host refreshed on its own
		after, err := web1.ServiceTicket("http/farm.contoso.com")
		Expect(err).NotTo(HaveOccurred())
		Expect(after.KVNO).To(BeEquivalentTo(2))
		Expect(after).To(harness.DecryptOn(web1))
		Expect(before).To(harness.DecryptOn(web1)) // with the previous password's key

		Expect(w.SetGMSA("DC1", "Farm", sim.GMSAChange{PrincipalsAllowedToRetrieve: &[]string{"Administrator"}})).To(Succeed())
		Expect(w).NotTo(harness.AllowPasswordRead("DC1", "WEB1$", "Farm"))
	})
})
