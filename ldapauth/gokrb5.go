package ldapauth

import (
	"crypto/rand"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// FromGokrb5 is the Kerberos identity of a logged-on gokrb5 client (from a keytab or a
// password), for a program talking to a real DC: tickets from its KDC, the wall clock, and
// crypto/rand.
func FromGokrb5(cl *client.Client) Kerberos {
	return Kerberos{
		Realm: cl.Credentials.Domain(),
		CName: cl.Credentials.CName(),
		Ticket: func(spn string) (messages.Ticket, types.EncryptionKey, error) {
			return cl.GetServiceTicket(spn)
		},
		Now:  time.Now, // wallclock: a real client's authenticator is stamped with its own clock
		Rand: rand.Reader,
	}
}
