package sim

import (
	"slices"
	"testing"
)

// TestQueryPolicy reads the Default Query Policy as the reference DC holds it.
func TestQueryPolicy(t *testing.T) {
	w := newTestWorld(t, Config{Seed: 1})
	vals, err := w.QueryPolicy(w.DCs()[0].Name())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MaxPageSize=1000", "MaxConnIdleTime=900", "InitRecvTimeout=120", "MaxConnections=5000",
		"MaxReceiveBuffer=10485760", "MaxQueryDuration=120", "MaxResultSetSize=262144"} {
		if !slices.Contains(vals, want) {
			t.Errorf("lDAPAdminLimits %v lack %s", vals, want)
		}
	}
	if _, err := w.QueryPolicy("NOSUCHDC"); err == nil {
		t.Error("an unknown DC's policy read succeeded")
	}
}
