package harness_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/harness"
	"github.com/gmsasim/gmsasim/scenarios"
	"github.com/gmsasim/gmsasim/sim"
)

func twoDCs(seed uint64, delay time.Duration) *sim.World {
	w, err := sim.New(sim.Config{Seed: seed, DCs: []sim.DCSpec{{Name: "DC1"}, {Name: "DC2"}}, LinkDelay: delay})
	Expect(err).NotTo(HaveOccurred())
	return w
}

func addGroup(w *sim.World, name string) {
	err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Add(now, fakead.SystemCaller, "CN="+name+",CN=Users,"+d.DomainDN(), []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("group")}}, {Name: "sAMAccountName", Values: [][]byte{[]byte(name)}}})
	})
	Expect(err).NotTo(HaveOccurred())
}

var _ = Describe("matchers", Label("matchers"), func() {
	It("Converge settles replication and compares replicas; a cut link is reported", func() {
		w := twoDCs(1, time.Hour)
		addGroup(w, "G1")
		Expect(w.CutLink("DC1", "DC2")).To(Succeed())
		m := harness.Converge()
		ok, err := m.Match(w)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(w)).To(ContainSubstring("link DC1-DC2 is cut"))
		Expect(w.HealLink("DC1", "DC2")).To(Succeed())
		Expect(w).To(harness.Converge())
	})
	It("HaveDigestOf: the same writes under other link delays end in the same directory", func() {
		a, b := twoDCs(9, time.Minute), twoDCs(9, 5*time.Hour)
		addGroup(a, "G1")
		addGroup(b, "G1")
		Expect(a).To(harness.Converge())
		Expect(b).To(harness.Converge())
		Expect(a).To(harness.HaveDigestOf(b))
		c := twoDCs(9, time.Minute)
		addGroup(c, "G2")
		Expect(c).NotTo(harness.HaveDigestOf(a))
	})
	It("PassScenario reports the runner's failure with seed, file:line and replay", func() {
		sc, err := scenarios.Parse("inline.scn", "# Inline.\nworld seed=4\n----\nwrong\n")
		Expect(err).NotTo(HaveOccurred())
		res := scenarios.Run(sc, scenarios.Options{})
		m := harness.PassScenario()
		ok, err := m.Match(res)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(res)).To(And(ContainSubstring("seed=4 scenario=inline.scn:2 t=+0h00m"), ContainSubstring("replay: gmsasim run inline.scn --seed 4")))
	})
})
