// Command krbload is the Kerberos load client behind `make bench`: it drives one KDC (gmsasim
// serve --kdc or MIT krb5kdc) with a fixed number of workers and prints one parseable line per run,
//
//	server=gmsasim op=as conc=8 ops=41234 secs=3.001 ops_per_sec=13741.3 errors=0
//
// so that bench/run.sh can put both KDCs side by side.
//
// It is hand-built on gokrb5 v8's message types and crypto, not on gokrb5's client: that client
// derives the user's key from the password (PBKDF2, 4096 iterations) on every login, which costs
// the client more CPU than the KDC spends on the whole exchange and would measure the client.
// Here the keys are derived once (-op keys writes them to a -keys file that the runs read).
//
// Operations (-op):
//   - as: a full password login of a random user of -users (user0 … userN-1), as MIT kinit does
//     it: an AS-REQ for krbtgt/REALM without pre-authentication, answered by
//     KDC_ERR_PREAUTH_REQUIRED with PA-ETYPE-INFO2 (the salt is read from it), then the AS-REQ with
//     PA-ENC-TIMESTAMP, answered by an AS-REP whose encrypted part must decrypt with the user's key
//     and carry the request's nonce. Both round trips make one operation.
//   - tgs: each worker logs on once (as above, user w of -users) and then sends TGS-REQs for
//     -service with its TGT; the TGS-REP must decrypt with the TGT's session key, carry the
//     nonce and name the service. One TGS exchange is one operation.
//   - keys: derive the -etype keys of users 0…N-1 with their default salt (REALM + name, which is
//     both MIT's and AD's salt for a user) and write them to -keys; prints no result line.
//
// Transport: TCP (RFC 4120 7.2.2, 4-byte length prefix), one connection per exchange, as MIT
// libkrb5 does over TCP. Users are picked from a math/rand/v2 PCG stream seeded with -seed and the
// worker's index, and so are the AS nonces (gokrb5 draws the TGS nonces), so both KDCs see the
// same users in the same order per worker. Every answer is checked: a wrong or undecryptable
// answer is an error, not throughput.
//
// This is a benchmark tool: it measures wall time and Kerberos needs the real time in its
// requests, so it reads the real clock (marked "wallclock:"), unlike the simulator packages.
package main
