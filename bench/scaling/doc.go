//go:build unix

// Command scaling is the size sweeps behind `make bench` (issue 15 item 3): each measures a cost
// at several sizes and writes, per curve, a table (NAME.txt, also printed), its data (NAME.csv)
// and an SVG chart (NAME.svg, drawn by bench/chart) into out/bench/, plus each sweep's raw
// measurements (SWEEP-raw.csv) and every table in scaling.txt.
//
// The sweeps:
//
//   - ldap: gmsasim serve against OpenLDAP slapd (started as bench/run.sh starts them), grown
//     through 1k, 10k and 100k users by bench/ldapload; at each size eq searches and binds, in
//     rounds with the servers taking turns, and each server's VmRSS. The first -pw-users (1000)
//     users get a password, the others none: a password costs gmsasim a PBKDF2 key derivation per
//     add (about 150 adds/s on 2 cores, 11 minutes for 100k), and neither an eq search nor a bind
//     depends on how many other users have one; binds pick among the users with a password, in a
//     directory of the full size. After each load the driver waits for the server's CPU to fall
//     idle (gmsasim collects the load's garbage for seconds). Without slapd, gmsasim alone is drawn.
//   - repl: a change (a new group) on DC1 of 2, 5, 10 and 20 DCs linked as a mesh (sim's
//     default) and as a ring: simulated time until every DC has it, deliveries, wall time and
//     allocations until quiet, and the world's live heap.
//   - farm: a year of simulated time of 10, 100 and 1000 gMSAs, each installed on its own host,
//     rotating every 30 days: wall and CPU time, simulated seconds per wall second, allocations.
//   - library: `gmsasim run scenarios/library scenarios/mim` on 1 and 2 cores (GOMAXPROCS and
//     --parallel), three runs each, taking turns, the median kept.
//
// Each curve's table ends with its growth: the least-squares slope of log(cost) over log(size)
// (0 flat, 1 linear, 2 quadratic) and the same slope of the cost per unit of the work the curve
// does (an eq search does the same work at every size; a year of rotations work linear in the
// gMSAs; a change in a mesh crosses n(n-1)/2 links). A curve whose cost per work rises by more than
// 0.25 of exponent is marked "GROWS FASTER THAN ITS WORK". The charts draw that work as a dashed
// grey reference line through the first point.
//
// Every knob is a flag with an environment default (`go run ./bench/scaling -h`): BENCH_SCALE_MAX
// leaves out the sizes above it (10000 skips the 100k-user and 1000-gMSA points), and the LDAP
// sweep takes bench/run.sh's BENCH_CONC, BENCH_DURATION, BENCH_WARMUP, BENCH_ROUNDS and
// BENCH_SEED.
//
// This is a benchmark driver: it reads the wall clock on purpose (marked "wallclock:"). The
// simulated worlds of the in-process sweeps are deterministic; their wall times are not. The
// in-process sweeps are also Go benchmarks (BenchmarkFarmYear, BenchmarkReplication).
package main
