#!/usr/bin/env bash
# bench/run.sh — `make bench`: LDAP throughput of `gmsasim serve` against OpenLDAP slapd, then KDC
# throughput of its Kerberos KDC against MIT krb5kdc, side by side.
#
# Both servers run on 127.0.0.1 at the same time, each loaded with the same number of users by the same
# Go client (bench/ldapload); then the same client, with the same concurrency, seed and durations, runs
# base-object searches, subtree equality searches, simple binds and connection-per-operation binds (simple, and SASL GSSAPI on gmsasim) against each, one server at a time,
# after a warm-up. It prints one result line per run and a table with the ratio gmsasim/slapd.
#
# The Kerberos half: an MIT krb5kdc on 127.0.0.1 with a throwaway realm CONTOSO.COM holding the same
# users (same names, same password) and the service principal http/ITFarm1.contoso.com, and the KDC
# of the same `gmsasim serve` (users loaded by the LDAP half); the same Go client (bench/krbload)
# runs password logins (as) and service-ticket requests (tgs) against each over TCP, and the script
# prints a second table with the ratio gmsasim/krb5kdc.
#
# Runs as root on a fresh Debian 12 machine: installs slapd and ldap-utils (and krb5-kdc and
# krb5-admin-server) with apt-get if they are missing. Leaves nothing behind: both servers are stopped and the temp dir removed at exit
# (BENCH_KEEP=1 keeps the temp dir for a look at the logs).
#
# Each operation is measured in BENCH_ROUNDS rounds, the two servers taking turns (which one goes first
# alternates), and the table shows the median round of each, so a burst of other load on the machine
# moves one round, not the figure.
#
# Knobs (environment): BENCH_CONC (8), BENCH_USERS (10000), BENCH_DURATION (3s), BENCH_WARMUP (1s),
# BENCH_ROUNDS (3), BENCH_SEED (1), BENCH_KEEP (0), BENCH_KRB_USERS (BENCH_USERS: users of the
# Kerberos half, the first of the LDAP half's), BENCH_ONLY (ldap: the LDAP half alone; krb: the
# Kerberos half alone, with gmsasim still loaded over LDAP but no slapd and no LDAP measurements).
# The whole script stays under 6 minutes on 2 cores with the defaults.
set -euo pipefail

CONC=${BENCH_CONC:-8}
USERS=${BENCH_USERS:-10000}
DURATION=${BENCH_DURATION:-3s}
WARMUP=${BENCH_WARMUP:-1s}
ROUNDS=${BENCH_ROUNDS:-3}
SEED=${BENCH_SEED:-1}
KRB_USERS=${BENCH_KRB_USERS:-$USERS}
((KRB_USERS > USERS)) && KRB_USERS=$USERS
ONLY=${BENCH_ONLY:-}
case "$ONLY" in
"" | ldap | krb) ;;
*)
	printf 'bench: BENCH_ONLY=%s: want ldap or krb\n' "$ONLY" >&2
	exit 2
	;;
esac
LOAD_LIMIT=150       # seconds: bound on one client run (loading users into one server is the long one)
READY_LIMIT=60       # seconds: bound on a server becoming ready
BASE_GM="DC=contoso,DC=com"
BASE_SL="dc=contoso,dc=com"
SL_ROOTDN="cn=admin,dc=contoso,dc=com"
SL_ROOTPW="bench-$SEED-secret"
GM_ADMIN_DN="CN=Administrator,CN=Users,DC=contoso,DC=com"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TMP=$(mktemp -d /tmp/gmsasim-bench.XXXXXX)
SLAPD_PIDFILE="$TMP/slapd/slapd.pid"
GM_PID=""
KDC_PID=""
POLICY_RC_ADDED=""

log() { printf 'bench: %s\n' "$*" >&2; }

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local rc=$?
	set +e
	if [[ -n "$GM_PID" ]] && kill -0 "$GM_PID" 2>/dev/null; then
		kill -TERM "$GM_PID"
		wait "$GM_PID" 2>/dev/null
	fi
	if [[ -n "$KDC_PID" ]] && kill -0 "$KDC_PID" 2>/dev/null; then
		kill -TERM "$KDC_PID"
		wait "$KDC_PID" 2>/dev/null
	fi
	if [[ -s "$SLAPD_PIDFILE" ]]; then
		local sp i
		sp=$(cat "$SLAPD_PIDFILE")
		kill -TERM "$sp" 2>/dev/null
		for ((i = 0; i < 100; i++)); do # slapd is not our child: wait (bounded, 5 s) for it to exit
			kill -0 "$sp" 2>/dev/null || break
			sleep 0.05
		done
	fi
	[[ -n "$POLICY_RC_ADDED" ]] && rm -f /usr/sbin/policy-rc.d
	if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
		log "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port prints a TCP port on 127.0.0.1 that nothing answers on, from 20000-31999: above the usual
# services and below Linux's ephemeral range (32768-60999), where client sockets could hold it.
free_port() {
	local p tries=0
	while ((tries++ < 200)); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	log "no free port found on 127.0.0.1"
	return 1
}

# wait_port waits (bounded) until 127.0.0.1:$1 accepts a connection.
wait_port() {
	local i
	for ((i = 0; i < READY_LIMIT * 20; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	return 1
}

SLAPD=/usr/sbin/slapd
SLAPADD=/usr/sbin/slapadd

ensure_slapd() {
	[[ -x "$SLAPD" && -x "$SLAPADD" ]] && return 0
	if [[ $(id -u) != 0 ]]; then
		log "slapd is not installed and this is not root: install it with 'apt-get install slapd' first"
		return 1
	fi
	log "installing slapd and ldap-utils with apt-get"
	# No debconf questions, no default database of the package's own, and no start of the
	# system service: this script runs its own slapd on its own config.
	echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		POLICY_RC_ADDED=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=120 update -qq >"$TMP/apt.log" 2>&1 || { cat "$TMP/apt.log" >&2; return 1; }
	apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends slapd ldap-utils >>"$TMP/apt.log" 2>&1 ||
		{ cat "$TMP/apt.log" >&2; return 1; }
	if [[ -n "$POLICY_RC_ADDED" ]]; then
		rm -f /usr/sbin/policy-rc.d
		POLICY_RC_ADDED=""
	fi
	[[ -x "$SLAPD" ]]
}

# start_slapd writes a throwaway slapd.conf (mdb, rootdn/rootpw, equality index on uid), creates the
# suffix and ou=people with slapadd, and starts slapd as root on ldap://127.0.0.1:$SL_PORT/.
start_slapd() {
	mkdir -p "$TMP/slapd/db" || return 1
	cat >"$TMP/slapd/slapd.conf" <<-EOF
		include /etc/ldap/schema/core.schema
		include /etc/ldap/schema/cosine.schema
		include /etc/ldap/schema/inetorgperson.schema
		modulepath /usr/lib/ldap
		moduleload back_mdb
		pidfile $SLAPD_PIDFILE
		argsfile $TMP/slapd/slapd.args
		loglevel 0
		database mdb
		maxsize 1073741824
		suffix "$BASE_SL"
		rootdn "$SL_ROOTDN"
		rootpw $SL_ROOTPW
		directory $TMP/slapd/db
		# gmsasim keeps its directory in memory: do not make slapd pay an fsync per add either.
		dbnosync
		index objectClass eq
		index uid eq
	EOF
	cat >"$TMP/slapd/base.ldif" <<-EOF
		dn: $BASE_SL
		objectClass: dcObject
		objectClass: organization
		dc: contoso
		o: contoso

		dn: ou=people,$BASE_SL
		objectClass: organizationalUnit
		ou: people
	EOF
	"$SLAPADD" -q -f "$TMP/slapd/slapd.conf" -l "$TMP/slapd/base.ldif" || { log "slapadd of the suffix failed"; return 1; }
	SL_PORT=$(free_port) || return 1
	"$SLAPD" -f "$TMP/slapd/slapd.conf" -h "ldap://127.0.0.1:$SL_PORT/" || { log "slapd did not start"; return 1; }
	wait_port "$SL_PORT" || { log "slapd did not accept connections on 127.0.0.1:$SL_PORT"; return 1; }
}

# start_gmsasim starts `gmsasim serve` on ports the kernel picks (it prints them on its `ready` line) and
# measures, in the script, the time from just before the process is started to the moment that line
# is read.
start_gmsasim() {
	mkdir -p "$TMP/gm"   # serve creates state/ itself (0700)
	mkfifo "$TMP/gm/out"
	local t0=$EPOCHREALTIME
	"$TMP/gmsasim" serve --ldap 127.0.0.1:0 --ldaps 127.0.0.1:0 --kdc 127.0.0.1:0 \
		--state-dir "$TMP/gm/state" --seed "$SEED" \
		>"$TMP/gm/out" 2>"$TMP/gm/stderr.log" &
	GM_PID=$!
	exec 4<"$TMP/gm/out"
	local line ready=""
	while IFS= read -r -t "$READY_LIMIT" line <&4; do
		printf '%s\n' "$line" >>"$TMP/gm/stdout.log"
		if [[ "$line" == ready* ]]; then
			ready=$EPOCHREALTIME
			break
		fi
	done
	if [[ -z "$ready" ]]; then
		if kill -0 "$GM_PID" 2>/dev/null; then
			log "gmsasim serve printed no 'ready' line within ${READY_LIMIT}s; its output:"
		else
			log "gmsasim serve exited before printing 'ready'; its output:"
		fi
		cat "$TMP/gm/stdout.log" "$TMP/gm/stderr.log" >&2 2>/dev/null || true
		return 1
	fi
	cat <&4 >>"$TMP/gm/stdout.log" & # keep draining its stdout so it never blocks on a full pipe
	exec 4<&-
	GM_READY_MS=$(awk -v a="$t0" -v b="$ready" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	# ready ldap=127.0.0.1:PORT ldaps=127.0.0.1:PORT ...
	GM_LDAP=$(sed -n 's/.* ldap=\([^ ]*\).*/\1/p' <<<"$line")
	GM_LDAPS=$(sed -n 's/.* ldaps=\([^ ]*\).*/\1/p' <<<"$line")
	GM_KDC=$(sed -n 's/.* kdc=\([^ ]*\).*/\1/p' <<<"$line")
	if [[ "$GM_LDAP" != 127.0.0.1:* || "$GM_LDAPS" != 127.0.0.1:* ]]; then
		log "cannot read the listen addresses from gmsasim's ready line: $line"
		return 1
	fi
}

# median_of SERVER OP FIELD: the median FIELD (ops_per_sec, cpu_us_per_op) of the result lines for
# SERVER and OP in $TMP/results (marked ! when any of them had failed operations), or "-" when there
# is none.
median_of() {
	awk -v s="$1" -v o="$2" -v f="$3" '
		{ split("", kv); for (i = 1; i <= NF; i++) { n = index($i, "="); kv[substr($i, 1, n - 1)] = substr($i, n + 1) } }
		kv["server"] == s && kv["op"] == o && (f in kv) { v[++n_] = kv[f] + 0; if (kv["errors"] != "0") bad = 1 }
		END {
			if (n_ == 0) { print "-"; exit }
			for (i = 2; i <= n_; i++) for (j = i; j > 1 && v[j] < v[j - 1]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
			m = (n_ % 2) ? v[(n_ + 1) / 2] : (v[n_ / 2] + v[n_ / 2 + 1]) / 2
			printf "%.1f%s\n", m, (bad ? "!" : "")
		}' "$TMP/results"
}

# ldapload SERVER ARGS...: one run of the client; its line goes to stdout and $TMP/results.
ldapload() {
	local server=$1 out rc=0
	shift
	out=$(timeout "$LOAD_LIMIT" "$TMP/ldapload" -server "$server" -conc "$CONC" -users "$USERS" -seed "$SEED" "$@") || rc=$?
	[[ -n "$out" ]] && printf '%s\n' "$out" | tee -a "$TMP/results"
	return "$rc"
}

KRB_REALM=CONTOSO.COM
KRB_SERVICE=http/ITFarm1.contoso.com
KRB_USER_PW="Bench-Passw0rd!" # bench/ldapload's default -user-pw: the password the LDAP half gave the users
KRB5KDC=/usr/sbin/krb5kdc
KDB5_UTIL=/usr/sbin/kdb5_util
KADMIN_LOCAL=/usr/sbin/kadmin.local

ensure_krb5kdc() {
	[[ -x "$KRB5KDC" && -x "$KDB5_UTIL" && -x "$KADMIN_LOCAL" ]] && return 0
	if [[ $(id -u) != 0 ]]; then
		log "krb5kdc is not installed and this is not root: install it with 'apt-get install krb5-kdc krb5-admin-server' first"
		return 1
	fi
	# krb5-kdc has krb5kdc and kdb5_util; kadmin.local is in krb5-admin-server. Neither package's
	# system service is started (policy-rc.d): this script runs its own krb5kdc on its own config.
	log "installing krb5-kdc and krb5-admin-server with apt-get"
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		POLICY_RC_ADDED=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=120 update -qq >>"$TMP/apt.log" 2>&1 || { cat "$TMP/apt.log" >&2; return 1; }
	apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends krb5-kdc krb5-admin-server >>"$TMP/apt.log" 2>&1 ||
		{ cat "$TMP/apt.log" >&2; return 1; }
	if [[ -n "$POLICY_RC_ADDED" ]]; then
		rm -f /usr/sbin/policy-rc.d
		POLICY_RC_ADDED=""
	fi
	[[ -x "$KRB5KDC" && -x "$KDB5_UTIL" && -x "$KADMIN_LOCAL" ]]
}

# start_krb5kdc creates a throwaway realm in $TMP/krb (kdc.conf with a loopback port, a db2 database
# made by kdb5_util, the users and the service principal added by one kadmin.local) and starts
# krb5kdc in the foreground (-n) as this script's child. Meanwhile krbload derives the users' keys
# into $TMP/krb/keys (both are PBKDF2-bound: they share the two cores).
start_krb5kdc() {
	local d="$TMP/krb" i
	mkdir -p "$d" || return 1
	KRB_PORT=$(free_port) || return 1
	cat >"$d/kdc.conf" <<-EOF
		[kdcdefaults]
			kdc_listen = 127.0.0.1:$KRB_PORT
			kdc_tcp_listen = 127.0.0.1:$KRB_PORT
		[realms]
			$KRB_REALM = {
				database_name = $d/principal
				key_stash_file = $d/stash
				acl_file = $d/kadm5.acl
				master_key_type = aes256-cts-hmac-sha1-96
				supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
				max_life = 10h 0m 0s
				max_renewable_life = 7d 0h 0m 0s
			}
		[dbmodules]
			# gmsasim keeps its accounts in memory and writes nothing per logon: no database write
			# per AS exchange for krb5kdc either (last successful logon, lockout counters).
			$KRB_REALM = {
				disable_last_success = true
				disable_lockout = true
			}
		[logging]
			kdc = FILE:$d/kdc.log
			admin_server = FILE:$d/kadmin.log
			default = FILE:$d/krb5lib.log
	EOF
	cat >"$d/krb5.conf" <<-EOF
		[libdefaults]
			default_realm = $KRB_REALM
		[realms]
			$KRB_REALM = {
				kdc = tcp/127.0.0.1:$KRB_PORT
			}
	EOF
	: >"$d/kadm5.acl"
	export KRB5_CONFIG="$d/krb5.conf" KRB5_KDC_PROFILE="$d/kdc.conf"
	"$KDB5_UTIL" create -s -r "$KRB_REALM" -P "bench-$SEED-master" >"$d/kdb5_util.log" 2>&1 ||
		{ cat "$d/kdb5_util.log" >&2; log "kdb5_util create failed"; return 1; }
	# Users get the AES256 key the client asks for (one PBKDF2 each, as the client's key file);
	# pre-authentication required, as AD requires it of its users. kadmin.local is CPU-bound
	# (string-to-key), so one per core, each with its share of the users (db2 locks each write).
	local jobs i j t0=$EPOCHREALTIME krc=0 arc=0
	jobs=$(nproc)
	((jobs > 4)) && jobs=4
	((jobs < 1)) && jobs=1
	for ((j = 0; j < jobs; j++)); do : >"$d/addprinc.$j.txt"; done
	for ((i = 0; i < KRB_USERS; i++)); do
		printf 'addprinc +requires_preauth -e aes256-cts-hmac-sha1-96:normal -pw %s user%d\n' "$KRB_USER_PW" "$i" >>"$d/addprinc.$((i % jobs)).txt"
	done
	echo "addprinc -randkey $KRB_SERVICE" >>"$d/addprinc.0.txt"
	"$TMP/krbload" -op keys -keys "$d/keys" -users "$KRB_USERS" -realm "$KRB_REALM" -user-pw "$KRB_USER_PW" -conc 1 2>"$d/keys.log" &
	local kpid=$! apids=()
	for ((j = 0; j < jobs; j++)); do
		timeout "$LOAD_LIMIT" "$KADMIN_LOCAL" -r "$KRB_REALM" <"$d/addprinc.$j.txt" >"$d/kadmin.$j.out" 2>&1 &
		apids+=($!)
	done
	for j in "${apids[@]}"; do wait "$j" || arc=$?; done
	wait "$kpid" || krc=$?
	if ((arc != 0)) || [[ $(cat "$d"/kadmin.*.out | grep -c '^Principal ".*" created') != $((KRB_USERS + 1)) ]]; then
		tail -5 "$d"/kadmin.*.out >&2
		log "kadmin.local did not create the $KRB_USERS users and $KRB_SERVICE (exit $arc)"
		return 1
	fi
	if ((krc != 0)); then
		cat "$d/keys.log" >&2
		log "krbload could not derive the users' keys"
		return 1
	fi
	log "krb5kdc realm: $KRB_USERS users and $KRB_SERVICE added, client keys derived, in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
	"$KRB5KDC" -n -r "$KRB_REALM" >"$d/krb5kdc.out" 2>&1 &
	KDC_PID=$!
	wait_port "$KRB_PORT" || { cat "$d/krb5kdc.out" >&2; log "krb5kdc did not accept connections on 127.0.0.1:$KRB_PORT"; return 1; }
}

# krbload SERVER ARGS...: one run of the Kerberos client; its line goes to stdout and $TMP/results.
krbload() {
	local server=$1 out rc=0
	shift
	out=$(timeout "$LOAD_LIMIT" "$TMP/krbload" -server "$server" -conc "$CONC" -users "$KRB_USERS" -seed "$SEED" \
		-realm "$KRB_REALM" -service "$KRB_SERVICE" -user-pw "$KRB_USER_PW" -keys "$TMP/krb/keys" \
		-duration "$DURATION" -warmup "$WARMUP" "$@") || rc=$?
	[[ -n "$out" ]] && printf '%s\n' "$out" | tee -a "$TMP/results"
	return "$rc"
}

touch "$TMP/results"
log "building the load clients"
go build -o "$TMP/ldapload" ./bench/ldapload
go build -o "$TMP/krbload" ./bench/krbload

HAVE_SL=1
if [[ "$ONLY" == krb ]]; then
	HAVE_SL=0 # the Kerberos half needs gmsasim's users, not slapd's
else
	ensure_slapd || { HAVE_SL=0; log "SKIPPING the slapd half: slapd could not be installed"; }
fi
HAVE_GM=1
if ! go build -o "$TMP/gmsasim" ./cmd/gmsasim 2>"$TMP/gmsasim-build.log"; then
	HAVE_GM=0
	log "SKIPPING the gmsasim half: 'go build ./cmd/gmsasim' failed:"
	sed 's/^/    /' "$TMP/gmsasim-build.log" >&2
fi

SL_ARGS=()
if ((HAVE_SL)); then
	start_slapd || { HAVE_SL=0; log "SKIPPING the slapd half: it did not start"; }
fi
if ((HAVE_SL)); then
	log "slapd $("$SLAPD" -VV 2>&1 | sed -n 's/.*slapd \([0-9.]*\).*/\1/p' | head -1) on 127.0.0.1:$SL_PORT"
	SL_ARGS=(-url "ldap://127.0.0.1:$SL_PORT" -bind-dn "$SL_ROOTDN" -bind-pw "$SL_ROOTPW"
		-base "$BASE_SL" -profile inetorgperson -server-pid "$(cat "$SLAPD_PIDFILE")")
fi
GM_ARGS=()
GM_BIND_NOTE=""
if ((HAVE_GM)); then
	if start_gmsasim; then
		log "gmsasim serve on $GM_LDAP (ldaps $GM_LDAPS), ready after $GM_READY_MS ms"
		GM_ARGS=(-url "ldap://$GM_LDAP" -bind-dn "$GM_ADMIN_DN" -creds "$TMP/gm/state/credentials.json" -creds-key Administrator -base "$BASE_GM" -profile ad -server-pid "$GM_PID")
	else
		HAVE_GM=0
		log "SKIPPING the gmsasim half: gmsasim serve did not become ready"
	fi
fi
if ((!HAVE_SL && !HAVE_GM)); then
	log "nothing to measure"
	exit 1
fi

log "loading $USERS users into each server ($CONC connections)"
if ((HAVE_SL)); then
	ldapload slapd -mode load "${SL_ARGS[@]}" || { log "loading slapd failed"; exit 1; }
fi
if ((HAVE_GM)); then
	# AD takes unicodePwd only over an encrypted connection: load over LDAPS with the world's CA.
	rc=0
	ldapload gmsasim -mode load "${GM_ARGS[@]}" -url "ldaps://$GM_LDAPS" \
		-ca "$TMP/gm/state/ca.pem" 2>"$TMP/gm/load.err" || rc=$?
	if ((rc != 0)); then
		cat "$TMP/gm/load.err" >&2
		if ((rc == 1)) && grep -q '^server=gmsasim op=load .* ops=0 ' "$TMP/results"; then
			# Not one add with a password went through: measure searches on users without one.
			log "gmsasim refused every add with a password; loading the users without one (no bind run)"
			GM_BIND_NOTE="gmsasim users have no password: $(grep -m1 -o 'first: .*' "$TMP/gm/load.err" | cut -c8-)"
			sed -i '/^server=gmsasim op=load /d' "$TMP/results"
			ldapload gmsasim -mode load "${GM_ARGS[@]}" -user-pw "" || log "loading gmsasim without passwords had errors"
		elif ((rc == 124)); then
			log "loading gmsasim took more than ${LOAD_LIMIT}s: not measuring it"
			HAVE_GM=0
		else
			log "loading gmsasim had errors (measuring anyway: runs on missing users count as errors)"
		fi
	fi
fi

# ratio A B: A/B as "1.23x" when both are numbers and B > 0, else "-".
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2fx", a / b; else print "-" }'
}

# bench_one SERVER OP: one measured run (after its warm-up) of OP against SERVER.
bench_one() {
	case "$1" in
	slapd)
		# This slapd has no SASL GSSAPI set up (it would need a keytab from krb5kdc): gmsasim alone.
		[[ "$2" == gssapi ]] && return 0
		ldapload slapd -op "$2" -duration "$DURATION" -warmup "$WARMUP" "${SL_ARGS[@]}" || log "slapd $2 had errors"
		;;
	gmsasim)
		[[ ("$2" == bind || "$2" == connbind || "$2" == gssapi) && -n "$GM_BIND_NOTE" ]] && return 0
		extra=()
		[[ "$2" == gssapi ]] && extra=(-krb5conf "$TMP/gm/state/krb5.conf" -realm CONTOSO.COM -spn ldap/dc1.contoso.com)
		ldapload gmsasim -op "$2" -duration "$DURATION" -warmup "$WARMUP" "${GM_ARGS[@]}" "${extra[@]}" || log "gmsasim $2 had errors"
		;;
	esac
}

SERVERS=()
((HAVE_SL)) && SERVERS+=(slapd)
((HAVE_GM)) && SERVERS+=(gmsasim)
# connbind and gssapi open a connection per operation: dial, bind, one base search, close. gssapi
# binds with SASL GSSAPI (each worker's Kerberos client holds its service ticket), connbind with a
# simple bind, so the two rows side by side are the cost of Kerberos on the server.
LDAP_OPS=(base eq bind connbind gssapi)
[[ "$ONLY" == krb ]] && LDAP_OPS=()
for op in "${LDAP_OPS[@]}"; do
	for ((round = 0; round < ROUNDS; round++)); do
		if ((round % 2 == 0)); then order=("${SERVERS[@]}"); else order=(); for ((k = ${#SERVERS[@]} - 1; k >= 0; k--)); do order+=("${SERVERS[k]}"); done; fi
		for server in "${order[@]}"; do bench_one "$server" "$op"; done
	done
done

if [[ "$ONLY" != krb ]]; then
	echo
	echo "LDAP throughput on 127.0.0.1: $USERS users, $CONC connections, median of $ROUNDS rounds of ${WARMUP} warm-up + ${DURATION}, seed $SEED, $(nproc) cores shared by client and servers"
	printf '%-8s %14s %12s %14s   %13s %11s %14s\n' op "gmsasim ops/s" "slapd ops/s" "gmsasim/slapd" \
		"gmsasim CPU/op" "slapd CPU/op" "slapd/gmsasim"
	for op in load base eq bind connbind gssapi; do
		g=$(median_of gmsasim "$op" ops_per_sec)
		s=$(median_of slapd "$op" ops_per_sec)
		gc=$(median_of gmsasim "$op" cpu_us_per_op)
		sc=$(median_of slapd "$op" cpu_us_per_op)
		r=$(ratio "$g" "$s")
		rc=$(ratio "$sc" "$gc")
		[[ "$gc" != - ]] && gc="$gc us"
		[[ "$sc" != - ]] && sc="$sc us"
		printf '%-8s %14s %12s %14s   %13s %11s %14s\n' "$op" "$g" "$s" "$r" "$gc" "$sc" "$rc"
	done
	echo "connbind, gssapi: a new connection per operation (dial, bind, one base search, close); gssapi binds with SASL"
	echo "GSSAPI (the worker's service ticket reused), connbind with a simple bind; slapd has no GSSAPI here."
	echo "ops/s: wall-clock throughput seen by the client; CPU/op: the server's own CPU time (user+system, /proc)"
	echo "per operation over the measured phase, which other load on the machine moves far less."
	echo "Both ratios are above 1 where gmsasim does better."
	((HAVE_GM)) && echo "load: gmsasim's adds go over LDAPS (AD takes unicodePwd only encrypted) and derive Kerberos keys; slapd's over LDAP"
	((HAVE_GM)) && echo "gmsasim serve: process start to 'ready' in $GM_READY_MS ms (measured by this script)"
	((HAVE_GM)) || echo "gmsasim: not measured (see SKIPPING above)"
	((HAVE_SL)) || echo "slapd: not measured (see SKIPPING above)"
	[[ -n "$GM_BIND_NOTE" ]] && echo "note: $GM_BIND_NOTE"
	echo
fi

if [[ "$ONLY" == ldap ]]; then
	grep -q 'errors=[1-9]' "$TMP/results" && echo "note: a value marked ! had failed operations; see the result lines above"
	exit 0
fi

# ---- The Kerberos half: gmsasim's KDC against MIT krb5kdc, same users, same client. ----
KRB_SERVERS=()
if ((HAVE_GM)) && [[ -n "$GM_BIND_NOTE" ]]; then
	log "SKIPPING gmsasim's KDC: its users have no password (see the LDAP half)"
elif ((HAVE_GM)) && [[ "$GM_KDC" != 127.0.0.1:* ]]; then
	log "SKIPPING gmsasim's KDC: no kdc= address on its ready line"
elif ((HAVE_GM)); then
	KRB_SERVERS+=(gmsasim)
fi
HAVE_KDC=1
ensure_krb5kdc || { HAVE_KDC=0; log "SKIPPING the krb5kdc half: krb5-kdc could not be installed"; }
if ((HAVE_KDC)); then
	start_krb5kdc || { HAVE_KDC=0; log "SKIPPING the krb5kdc half: it did not start"; }
fi
if ((HAVE_KDC)); then
	log "krb5kdc $(dpkg-query -W -f='${Version}' krb5-kdc 2>/dev/null || echo "?") on 127.0.0.1:$KRB_PORT (TCP), pid $KDC_PID"
	KRB_SERVERS=(krb5kdc "${KRB_SERVERS[@]}")
elif ((${#KRB_SERVERS[@]})); then
	# No MIT realm: the client's keys are still needed for gmsasim alone.
	mkdir -p "$TMP/krb"
	"$TMP/krbload" -op keys -keys "$TMP/krb/keys" -users "$KRB_USERS" -realm "$KRB_REALM" -user-pw "$KRB_USER_PW" -conc 2 ||
		KRB_SERVERS=()
fi

# krb_one SERVER OP: one measured run (after its warm-up) of OP against SERVER's KDC.
krb_one() {
	case "$1" in
	krb5kdc) krbload krb5kdc -op "$2" -kdc "127.0.0.1:$KRB_PORT" -server-pid "$KDC_PID" || log "krb5kdc $2 had errors" ;;
	gmsasim) krbload gmsasim -op "$2" -kdc "$GM_KDC" -server-pid "$GM_PID" || log "gmsasim KDC $2 had errors" ;;
	esac
}

if ((${#KRB_SERVERS[@]})); then
	log "Kerberos: as and tgs against ${KRB_SERVERS[*]} ($KRB_USERS users, $CONC workers, TCP)"
	for op in as tgs; do
		for ((round = 0; round < ROUNDS; round++)); do
			if ((round % 2 == 0)); then order=("${KRB_SERVERS[@]}"); else order=(); for ((k = ${#KRB_SERVERS[@]} - 1; k >= 0; k--)); do order+=("${KRB_SERVERS[k]}"); done; fi
			for server in "${order[@]}"; do krb_one "$server" "$op"; done
		done
	done
	echo
	echo "KDC throughput on 127.0.0.1 over TCP: $KRB_USERS users, $CONC workers, median of $ROUNDS rounds of ${WARMUP} warm-up + ${DURATION}, seed $SEED, $(nproc) cores shared by client and servers"
	printf '%-5s %14s %14s %16s   %14s %14s %16s\n' op "gmsasim ops/s" "krb5kdc ops/s" "gmsasim/krb5kdc" \
		"gmsasim CPU/op" "krb5kdc CPU/op" "krb5kdc/gmsasim"
	for op in as tgs; do
		g=$(median_of gmsasim "$op" ops_per_sec)
		s=$(median_of krb5kdc "$op" ops_per_sec)
		gc=$(median_of gmsasim "$op" cpu_us_per_op)
		sc=$(median_of krb5kdc "$op" cpu_us_per_op)
		r=$(ratio "$g" "$s")
		rc=$(ratio "$sc" "$gc")
		[[ "$gc" != - ]] && gc="$gc us"
		[[ "$sc" != - ]] && sc="$sc us"
		printf '%-5s %14s %14s %16s   %14s %14s %16s\n' "$op" "$g" "$s" "$r" "$gc" "$sc" "$rc"
	done
	echo "as: a full password login (AS-REQ, PREAUTH_REQUIRED with PA-ETYPE-INFO2, AS-REQ with PA-ENC-TIMESTAMP, AS-REP"
	echo "decrypted and checked): two exchanges, a TCP connection each, per op. tgs: one TGS exchange for $KRB_SERVICE"
	echo "with the worker's TGT. AES256 throughout. Both ratios are above 1 where gmsasim does better."
	((HAVE_KDC)) || echo "krb5kdc: not measured (see SKIPPING above)"
	[[ " ${KRB_SERVERS[*]} " == *" gmsasim "* ]] || echo "gmsasim KDC: not measured (see SKIPPING above)"
else
	echo "Kerberos: no KDC measured (see SKIPPING above)"
fi
grep -q 'errors=[1-9]' "$TMP/results" && echo "note: a value marked ! had failed operations; see the result lines above"
exit 0
