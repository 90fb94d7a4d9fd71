// Command ldapload is the load client behind `make bench`: it drives one LDAP server (gmsasim serve or
// OpenLDAP slapd) with a fixed number of connections and prints one parseable line per run,
//
//	server=gmsasim op=base conc=8 ops=41234 secs=5.001 ops_per_sec=8245.3 errors=0
//
// so that bench/run.sh can put both servers side by side.
//
// Modes:
//   - -mode load adds -users entries (user0 … userN-1) in parallel over LDAP, in the shape of the
//     chosen -profile: "ad" (CN=userN,CN=Users,<base>, objectClass user, sAMAccountName, unicodePwd) or
//     "inetorgperson" (uid=userN,ou=people,<base>, objectClass inetOrgPerson, uid, userPassword {SSHA}).
//   - -mode bench runs one operation kind (-op) for -duration or -max-ops, whichever ends first, after a
//     -warmup phase on the same connections: "base" is a base-object search of a user's DN, "eq" a
//     subtree equality search (<filter-attr>=userN) from -base, "bind" a simple bind as userN on an
//     open connection.
//
// Every operation is checked: a search must return exactly the one expected entry and a bind must
// succeed, otherwise it counts as an error and the exit status is 1. Users are picked from a
// math/rand/v2 PCG stream seeded with -seed and the worker's index, so two runs with the same flags
// ask for the same users in the same order per connection.
//
// This is a benchmark tool: it measures wall time on purpose, so it reads the real clock (marked
// "wallclock:"), unlike the simulator packages. It does no timed assertions; it reports.
package main
