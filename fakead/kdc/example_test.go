package kdc_test

import (
	"fmt"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// How sim runs a DC's KDC: the KDC over the DC's replica, a server whose every request runs
// inside World.ExecOn at the world's time, and each outcome in the world's trace.
func Example() {
	w, err := sim.New(sim.Config{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	k, err := kdc.ForDirectory(w.DC("DC1").Directory(), w.Rand("kdc/DC1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := kdc.NewServer(kdc.ServerConfig{KDC: k,
		Exec: func(fn func(now time.Time) error) error {
			return w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error { return fn(now) })
		},
		OnExchange: func(now time.Time, o kdc.Outcome) { w.Loop().Logf("DC1 kdc %s", o) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	// In process, the same path: the first AS-REQ of a logon, without pre-authentication.
	req, _ := messages.NewASReqForTGT("CONTOSO.COM", config.New(), types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "Administrator"))
	b, _ := req.Marshal()
	w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error {
		o := k.Exchange(now, b)
		fmt.Println(o)
		return nil
	})
	// Output:
	// AS Administrator@CONTOSO.COM -> krbtgt/CONTOSO.COM: KDC_ERR_PREAUTH_REQUIRED (25)
}
