#!/usr/bin/env bash
# Interop: unmodified outside clients against `gmsasim serve` on loopback.
#   ldapsearch/ldapadd/ldapmodify/ldapdelete (OpenLDAP), python3 ldap3, raw sockets.
# Usage: interop/run.sh [path/to/gmsasim]. Prints one line per check and "N passed, N failed".
set -uo pipefail
BIN=${1:-bin/gmsasim}
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
tmp=$(mktemp -d)
pass=0; fail=0
cleanup() { [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null; [ -n "${srv2:-}" ] && kill "$srv2" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

ok()  { pass=$((pass+1)); echo "PASS $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1: $2"; }
# check NAME EXPECTED-REGEX CMD... : runs CMD, passes when its output matches EXPECTED-REGEX.
check() {
  local name=$1 want=$2; shift 2
  local out; out=$("$@" 2>&1)
  if grep -Eq -- "$want" <<<"$out"; then ok "$name"; else bad "$name" "want /$want/, got: $(head -c 600 <<<"$out")"; fi
}

for tool in ldapsearch ldapadd ldapmodify ldapdelete; do
  command -v $tool >/dev/null || { echo "interop: $tool not installed (Debian package ldap-utils; .ci/run installs it)"; exit 1; }
done

"$BIN" serve --ldap 127.0.0.1:0 --ldaps 127.0.0.1:0 --kdc 127.0.0.1:0 --dns 127.0.0.1:0 --state-dir "$tmp/state" --seed 1 >"$tmp/serve.log" 2>&1 &
srv=$!
for _ in $(seq 1 200); do grep -q '^ready' "$tmp/serve.log" && break; kill -0 $srv 2>/dev/null || break; sleep 0.05; done
ready=$(grep '^ready' "$tmp/serve.log") || { echo "interop: gmsasim serve did not become ready:"; cat "$tmp/serve.log"; exit 1; }
echo "$ready"
LDAP=$(sed -E 's/.* ldap=([^ ]+).*/\1/' <<<"$ready")
LDAPS=$(sed -E 's/.* ldaps=([^ ]+).*/\1/' <<<"$ready")
export LDAPTLS_CACERT="$tmp/state/ca.pem" LDAPTLS_REQCERT=demand
pw() { $PY -c "import json,sys; print(json.load(open('$tmp/state/credentials.json'))[sys.argv[1]])" "$1"; }
ADMIN_PW=$(pw Administrator); ALICE_PW=$(pw alice)
BASE="DC=contoso,DC=com"

# 1. rootDSE, anonymously over plain LDAP.
check "rootDSE anonymous" "defaultNamingContext: $BASE" \
  ldapsearch -x -LLL -H "ldap://$LDAP" -b "" -s base
check "rootDSE currentTime and highestCommittedUSN" "highestCommittedUSN: [0-9]+" \
  ldapsearch -x -LLL -H "ldap://$LDAP" -b "" -s base currentTime highestCommittedUSN

# 2. LDAPS verified with ca.pem alone, bind by UPN, read the schema version.
check "LDAPS UPN bind reads objectVersion" "^objectVersion: 88" \
  ldapsearch -x -LLL -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" \
    -b "CN=Schema,CN=Configuration,$BASE" -s base objectVersion
check "StartTLS bind as CONTOSO\\alice" "sAMAccountName: alice" \
  ldapsearch -x -LLL -ZZ -H "ldap://$LDAP" -D 'CONTOSO\alice' -w "$ALICE_PW" -b "$BASE" "(sAMAccountName=alice)" sAMAccountName
check "wrong password is 49 with AD's text" "Invalid credentials \(49\)|data 52e" \
  ldapsearch -x -LLL -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w wrong -b "" -s base

# 3. Paged search returns every user, over several pages.
users_flat=$(ldapsearch -x -LLL -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" -b "$BASE" \
  "(&(objectCategory=person)(objectClass=user))" dn | grep -c '^dn:')
paged=$(ldapsearch -x -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" -b "$BASE" -E pr=2/noprompt \
  "(&(objectCategory=person)(objectClass=user))" dn 2>&1)
users_paged=$(grep -c '^dn:' <<<"$paged"); cookies=$(grep -c 'pagedresults: cookie=' <<<"$paged")
if [ "$users_flat" -ge 4 ] && [ "$users_paged" = "$users_flat" ] && [ "$cookies" -ge 2 ]; then
  ok "paged search (pr=2) returns all $users_paged users over $cookies pages"
else bad "paged search" "flat=$users_flat paged=$users_paged pages=$cookies: $(head -c 400 <<<"$paged")"; fi
paged5=$(ldapsearch -x -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" -b "$BASE" -E pr=5/noprompt \
  "(objectClass=user)" dn 2>&1 | grep -c '^dn:')
all=$(ldapsearch -x -LLL -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" -b "$BASE" "(objectClass=user)" dn | grep -c '^dn:')
[ "$paged5" = "$all" ] && ok "paged search (pr=5) returns all $all user-class objects" || bad "paged pr=5" "$paged5 of $all"

# 4. AD's bitwise-AND matching rule: the disabled accounts.
dis=$(ldapsearch -x -LLL -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" -b "$BASE" \
  "(userAccountControl:1.2.840.113556.1.4.803:=2)" sAMAccountName 2>&1)
if grep -q '^sAMAccountName: Guest' <<<"$dis" && grep -q '^sAMAccountName: krbtgt' <<<"$dis" && ! grep -q '^sAMAccountName: alice' <<<"$dis"; then
  ok "bitwise AND 1.2.840.113556.1.4.803 finds Guest and krbtgt, not alice"
else bad "bitwise AND" "$dis"; fi

# 5. Writes: Administrator may, alice gets 50.
cat >"$tmp/add.ldif" <<LDIF
dn: CN=interop1,CN=Users,$BASE
objectClass: user
sAMAccountName: interop1
LDIF
cat >"$tmp/mod.ldif" <<LDIF
dn: CN=interop1,CN=Users,$BASE
changetype: modify
replace: description
description: changed by ldapmodify
LDIF
cat >"$tmp/add2.ldif" <<LDIF
dn: CN=interop2,CN=Users,$BASE
objectClass: user
sAMAccountName: interop2
LDIF
check "ldapadd as Administrator" "adding new entry" \
  ldapadd -x -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" -f "$tmp/add.ldif"
check "ldapmodify as Administrator" "modifying entry" \
  ldapmodify -x -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" -f "$tmp/mod.ldif"
check "modified value is read back" "^description: changed by ldapmodify" \
  ldapsearch -x -LLL -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" -b "CN=interop1,CN=Users,$BASE" -s base description
check "ldapadd as alice is 50" "Insufficient access \(50\)" \
  ldapadd -x -H "ldaps://$LDAPS" -D "alice@contoso.com" -w "$ALICE_PW" -f "$tmp/add2.ldif"
check "ldapmodify as alice is 50" "Insufficient access \(50\)" \
  ldapmodify -x -H "ldaps://$LDAPS" -D "alice@contoso.com" -w "$ALICE_PW" -f "$tmp/mod.ldif"
check "ldapdelete as alice is 50" "Insufficient access \(50\)" \
  ldapdelete -x -H "ldaps://$LDAPS" -D "alice@contoso.com" -w "$ALICE_PW" "CN=interop1,CN=Users,$BASE"
out=$(ldapdelete -x -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" "CN=interop1,CN=Users,$BASE" 2>&1); rc=$?
gone=$(ldapsearch -x -LLL -H "ldaps://$LDAPS" -D "Administrator@contoso.com" -w "$ADMIN_PW" -b "CN=interop1,CN=Users,$BASE" -s base dn 2>&1)
if [ $rc = 0 ] && grep -q 'No such object (32)' <<<"$gone"; then ok "ldapdelete as Administrator"; else bad "ldapdelete" "rc=$rc $out / $gone"; fi

# 6. Anonymous sees the rootDSE only.
anon=$(ldapsearch -x -LLL -H "ldap://$LDAP" -b "$BASE" "(objectClass=user)" dn 2>&1)
if ! grep -q '^dn:' <<<"$anon"; then ok "anonymous subtree search returns no user objects"; else bad "anonymous search" "$anon"; fi

# 7. python ldap3 reads the schema and searches over LDAPS.
if $PY -c 'import ldap3' 2>/dev/null; then
  check "python ldap3: schema and search over LDAPS" "^ok " \
    $PY "$here/ldap3_check.py" "$LDAPS" "$tmp/state/ca.pem" "$ADMIN_PW"
else bad "python ldap3" "python3-ldap3 not installed (.ci/run installs it)"; fi

# 8. gMSA: who reads msDS-ManagedPassword, and the password equals the offline calculator's.
if $PY -c 'import ldap3' 2>/dev/null; then
  check "gMSA password over LDAPS = gmsasim kds; WEB3\$/alice/plain LDAP refused" "^ok " \
    $PY "$here/gmsa_check.py" "$BIN" "$LDAP" "$LDAPS" "$tmp/state/ca.pem" "$tmp/state/credentials.json"
fi

# 9. Kerberos with MIT tools: kinit, kvno, a keytab from `gmsasim keytab`.
if command -v kinit >/dev/null && command -v kvno >/dev/null; then
  export KRB5_CONFIG="$tmp/state/krb5.conf" KRB5CCNAME="FILE:$tmp/krb5cc"
  check "kinit alice" "^(Password for alice@CONTOSO.COM: )?$" bash -c "echo '$ALICE_PW' | kinit alice@CONTOSO.COM 2>&1"
  check "klist shows alice's TGT" "krbtgt/CONTOSO.COM@CONTOSO.COM" klist
  check "kvno http/ITFarm1.contoso.com" "http/ITFarm1.contoso.com@CONTOSO.COM: kvno = [0-9]+" kvno http/ITFarm1.contoso.com
  check "kinit with a wrong password fails" "Password incorrect|Preauthentication failed" \
    bash -c "echo wrong | KRB5CCNAME=FILE:$tmp/bad kinit alice@CONTOSO.COM 2>&1"
  check "kinit for an unknown principal fails" "not found in Kerberos database" \
    bash -c "echo x | KRB5CCNAME=FILE:$tmp/bad kinit nobody@CONTOSO.COM 2>&1"
  WEB1_PW=$(pw 'WEB1$'); WEB3_PW=$(pw 'WEB3$')
  check "gmsasim keytab as WEB1\$" "wrote .*keys for ITFarm1\\$" \
    "$BIN" keytab --ldap "ldaps://$LDAPS" --ca "$tmp/state/ca.pem" --bind 'WEB1$@contoso.com' --password "$WEB1_PW" \
      --account 'ITFarm1$' --out "$tmp/itfarm1.keytab"
  check "klist -k lists the keytab's entries" "http/ITFarm1.contoso.com@CONTOSO.COM" klist -k "$tmp/itfarm1.keytab"
  check "kvno -k checks the service ticket against the keytab" "keytab validates|kvno = [0-9]+" \
    kvno -k "$tmp/itfarm1.keytab" http/ITFarm1.contoso.com
  check "kinit -k -t as the gMSA (outbound authentication)" "^$" \
    bash -c "KRB5CCNAME=FILE:$tmp/gmsa kinit -k -t '$tmp/itfarm1.keytab' 'ITFarm1\$@CONTOSO.COM' 2>&1"
  # The DC's own account has keys (issue 11): tickets for its ldap/ and host/ SPNs and its account
  # name. The names are taken as given (krb5.conf: dns_canonicalize_hostname = false), so
  # dc1.contoso.com need not resolve here.
  out=$(kvno ldap/dc1.contoso.com host/dc1.contoso.com 'DC1$' 2>&1); rc=$?
  n=$(grep -Ec '^(ldap/dc1\.contoso\.com|host/dc1\.contoso\.com|DC1\$)@CONTOSO\.COM: kvno = [0-9]+$' <<<"$out")
  if [ $rc = 0 ] && [ "$n" = 3 ]; then ok "kvno ldap/dc1.contoso.com host/dc1.contoso.com DC1\$"
  else bad "kvno of the DC's SPNs" "rc=$rc $out"; fi
  # serve's keytab per joined computer, as a domain join leaves /etc/krb5.keytab.
  out=$(klist -k -e "$tmp/state/keytabs/WEB1.keytab" 2>&1)
  n=$(grep -Ec '^ +[0-9]+ (WEB1\$|host/web1\.contoso\.com|host/WEB1)@CONTOSO\.COM \((aes256-cts-hmac-sha1-96|aes128-cts-hmac-sha1-96|(DEPRECATED:)?arcfour-hmac)\) *$' <<<"$out")
  [ "$n" = 9 ] && ok "klist -k keytabs/WEB1.keytab lists WEB1\$, host/web1.contoso.com, host/WEB1 x aes256, aes128, rc4" \
    || bad "klist -k keytabs/WEB1.keytab" "$n of 9 entries: $out"
  check "kinit -k -t keytabs/WEB1.keytab WEB1\$" "Default principal: WEB1\\\$@CONTOSO.COM" \
    bash -c "KRB5CCNAME=FILE:$tmp/web1 kinit -k -t '$tmp/state/keytabs/WEB1.keytab' 'WEB1\$' 2>&1 && KRB5CCNAME=FILE:$tmp/web1 klist"
  check "kinit -k -t keytabs/DC1.keytab DC1\$ (the DC's account logs on)" "Default principal: DC1\\\$@CONTOSO.COM" \
    bash -c "KRB5CCNAME=FILE:$tmp/dc1 kinit -k -t '$tmp/state/keytabs/DC1.keytab' 'DC1\$' 2>&1 && KRB5CCNAME=FILE:$tmp/dc1 klist"
  check "as WEB1\$, kvno -k keytabs/DC1.keytab ldap/dc1.contoso.com validates" "ldap/dc1.contoso.com@CONTOSO.COM: kvno = [0-9]+, keytab entry valid" \
    bash -c "KRB5CCNAME=FILE:$tmp/web1 kvno -k '$tmp/state/keytabs/DC1.keytab' ldap/dc1.contoso.com 2>&1"
  out=$("$BIN" keytab --ldap "ldaps://$LDAPS" --ca "$tmp/state/ca.pem" --bind 'WEB3$@contoso.com' --password "$WEB3_PW" \
      --account 'ITFarm1$' --out "$tmp/web3.keytab" 2>&1); rc=$?
  if [ $rc != 0 ] && grep -q "may not retrieve the managed password of ITFarm1\\$" <<<"$out" && [ ! -e "$tmp/web3.keytab" ]; then
    ok "gmsasim keytab as WEB3\$ (not allowed) fails and writes no file"
  else bad "keytab as WEB3\$" "rc=$rc $out"; fi
else
  bad "MIT Kerberos" "kinit/kvno not installed (Debian krb5-user; .ci/run installs it)"
fi

# 10. Secrets through filters (issue 9): as alice, a >= probe on Administrator's unicodePwd and on the
# root key's data answers the same whatever the value (nothing, and everything under negation), as
# if the attribute did not exist; Compare on the root key answers noSuchAttribute.
probe() { ldapsearch -x -LLL -ZZ -H "ldap://$LDAP" -D 'CONTOSO\alice' -w "$ALICE_PW" -b "$2" "$1" dn 2>&1 | grep -c '^dn:'; }
RK="CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,$BASE"
answers=""
for v in '\00' '\7f' '\ff'; do
  answers+="$(probe "(&(sAMAccountName=Administrator)(unicodePwd>=$v))" "$BASE")/$(probe "(&(sAMAccountName=Administrator)(!(unicodePwd>=$v)))" "$BASE")"
  answers+="/$(probe "(&(objectClass=msKds-ProvRootKey)(msKds-RootKeyData>=$v))" "$RK")/$(probe "(&(objectClass=msKds-ProvRootKey)(!(msKds-RootKeyData>=$v)))" "$RK") "
done
[ "$answers" = "0/1/0/1 0/1/0/1 0/1/0/1 " ] && ok "filters on unicodePwd and msKds-RootKeyData tell alice nothing" \
  || bad "secret filters" "answers per probe value: $answers"
rkdn=$(ldapsearch -x -LLL -o ldif-wrap=no -ZZ -H "ldap://$LDAP" -D 'CONTOSO\alice' -w "$ALICE_PW" -b "$RK" "(objectClass=msKds-ProvRootKey)" dn | sed -n 's/^dn: //p' | head -1)
check "Compare on msKds-RootKeyData as alice is noSuchAttribute" "No such attribute \(16\)" \
  ldapcompare -x -ZZ -H "ldap://$LDAP" -D 'CONTOSO\alice' -w "$ALICE_PW" "$rkdn" "msKds-RootKeyData:anything"
KDC=$(sed -E 's/.* kdc=([^ ]+).*/\1/' <<<"$ready")
check "a 1-byte UDP datagram to the KDC gets no answer (no amplifier)" "^silent$" \
  $PY -c "
import socket,sys
h,p=sys.argv[1].rsplit(':',1); s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(1.0)
s.sendto(b'\x6a',(h,int(p)))
try: s.recvfrom(2048); print('answered')
except socket.timeout: print('silent')" "$KDC"

# 12. Vendor mode (issue 11): the member host's own keytab, SASL GSSAPI with sealing, NTLM, impacket.
# Kerberos clients need the DC by name: dc1.contoso.com must resolve to 127.0.0.1 (.ci/run maps it).
if ! getent hosts dc1.contoso.com | grep -q '^127\.0\.0\.1'; then
  if [ -w /etc/hosts ]; then echo '127.0.0.1 dc1.contoso.com' >>/etc/hosts; fi
fi
if getent hosts dc1.contoso.com | grep -q '^127\.0\.0\.1' && command -v kinit >/dev/null; then
  LPORT=${LDAP##*:}; SPORT=${LDAPS##*:}; KPORT=$(sed -E 's/.* kdc=[^:]+:([0-9]+).*/\1/' <<<"$ready")
  export KRB5_CONFIG="$tmp/state/krb5.conf"
  w1() { KRB5CCNAME="FILE:$tmp/web1cc" "$@"; }
  w3() { KRB5CCNAME="FILE:$tmp/web3cc" "$@"; }
  check "kinit -k with STATE/keytabs/WEB1.keytab" "^$" w1 kinit -k -t "$tmp/state/keytabs/WEB1.keytab" 'WEB1$@CONTOSO.COM'
  check "kinit -k with STATE/keytabs/WEB3.keytab" "^$" w3 kinit -k -t "$tmp/state/keytabs/WEB3.keytab" 'WEB3$@CONTOSO.COM'
  gss() { ldapsearch -LLL -Y GSSAPI -N -H "ldap://dc1.contoso.com:$LPORT" "$@" 2>&1; }
  out=$(w1 gss -b "$BASE" "(sAMAccountName=ITFarm1\$)" msDS-ManagedPassword)
  if grep -q '^msDS-ManagedPassword::' <<<"$out" && grep -Eq 'SASL SSF: [1-9][0-9]*' <<<"$out"; then
    ok "ldapsearch -Y GSSAPI as WEB1\$ (sealed: SASL SSF > 0) reads msDS-ManagedPassword over ldap://"
  else bad "ldapsearch -Y GSSAPI sealed" "$(head -c 600 <<<"$out")"; fi
  check "ldapsearch -Y GSSAPI -O maxssf=0 (no layer) gets 0000202D" "0000202D" \
    w1 gss -O maxssf=0 -b "$BASE" "(sAMAccountName=ITFarm1\$)" msDS-ManagedPassword
  out=$(w3 gss -b "$BASE" "(sAMAccountName=ITFarm1\$)" msDS-ManagedPassword sAMAccountName)
  if grep -q '^sAMAccountName: ITFarm1\$' <<<"$out" && ! grep -q '^msDS-ManagedPassword' <<<"$out"; then
    ok "ldapsearch -Y GSSAPI as WEB3\$ gets ITFarm1 without the password"
  else bad "GSSAPI as WEB3\$" "$(head -c 600 <<<"$out")"; fi
  check "ldapwhoami -Y GSSAPI prints u:CONTOSO\\WEB1\$" '^u:CONTOSO\\WEB1\$$' \
    w1 ldapwhoami -Y GSSAPI -N -Q -H "ldap://dc1.contoso.com:$LPORT"
  if $PY -c 'import gssapi' 2>/dev/null; then
    check "python ldap3 SASL/KERBEROS from WEB1's keytab, StartTLS, password = gmsasim kds" "^ok " \
      w1 $PY "$here/vendor_check.py" ldap3-kerberos "$BIN" "$LPORT" "$SPORT" "$KPORT" "$tmp/state/ca.pem" "$tmp/state/credentials.json"
  else bad "python ldap3 SASL/KERBEROS" "python3-gssapi not installed (.ci/run installs it)"; fi
  check "python ldap3 NTLM as CONTOSO\\WEB1\$: StartTLS reads, plain 0000202D, wrong password 52e" "^ok " \
    $PY "$here/vendor_check.py" ldap3-ntlm "$BIN" "$LPORT" "$SPORT" "$KPORT" "$tmp/state/ca.pem" "$tmp/state/credentials.json"
  check "impacket LDAPConnection login() (NTLM) and kerberosLogin()" "^ok " \
    $PY "$here/vendor_check.py" impacket "$BIN" "$LPORT" "$SPORT" "$KPORT" "$tmp/state/ca.pem" "$tmp/state/credentials.json"
  check "impacket NTLM with SEAL over Sicily: WhoAmI and the password over sealed plain LDAP" "^ok " \
    $PY "$here/vendor_check.py" impacket-sealed "$BIN" "$LPORT" "$SPORT" "$KPORT" "$tmp/state/ca.pem" "$tmp/state/credentials.json"
else
  bad "vendor mode" "dc1.contoso.com does not resolve to 127.0.0.1 (run as root, or map it in /etc/hosts) or MIT kinit is missing"
fi

# 13. DNS (issue 12): the DC locator's SRV records with the ports serve listens on.
DNSADDR=$(sed -E 's/.* dns=([^ ]+).*/\1/' <<<"$ready")
if command -v dig >/dev/null; then
  check "dig SRV _ldap._tcp.dc._msdcs.contoso.com lists DC1 with its LDAP port" "^0 100 ${LDAP##*:} dc1\.contoso\.com\.$" \
    dig +short -p "${DNSADDR##*:}" @"${DNSADDR%:*}" -t SRV _ldap._tcp.dc._msdcs.contoso.com
  check "dig SRV _kerberos._udp.contoso.com lists DC1 with its KDC port" "^0 100 $(sed -E 's/.* kdc=[^:]+:([0-9]+).*/\1/' <<<"$ready") dc1\.contoso\.com\.$" \
    dig +short -p "${DNSADDR##*:}" @"${DNSADDR%:*}" -t SRV _kerberos._udp.contoso.com
  check "dig for a name outside the domain is REFUSED (not a resolver)" "status: REFUSED" \
    dig -p "${DNSADDR##*:}" @"${DNSADDR%:*}" example.org A
else bad "dig" "not installed (Debian bind9-dnsutils; .ci/run installs it)"; fi

# 14. Time travel and the control API (issue 12): a second serve with two DCs and --control. The
# world advances 30 days through `gmsasim ctl`; MIT kinit/kvno on the wall clock keep working, the
# gMSA has rotated (kvno 2), the keytab written afterwards holds kvno 2 and 1, and a service ticket
# saved before the advance still decrypts with it.
"$BIN" serve --ldap 127.0.0.1:0 --ldaps 127.0.0.1:0 --kdc 127.0.0.1:0 --dns 127.0.0.1:0 --dcs 2 --control 127.0.0.1:0 \
  --state-dir "$tmp/tt" --seed 2 >"$tmp/tt.log" 2>&1 &
srv2=$!
for _ in $(seq 1 200); do grep -q '^ready' "$tmp/tt.log" && break; kill -0 $srv2 2>/dev/null || break; sleep 0.05; done
ready2=$(grep '^ready' "$tmp/tt.log") || { bad "serve --dcs 2 --control" "not ready: $(cat "$tmp/tt.log")"; ready2=""; }
if [ -n "$ready2" ] && command -v kinit >/dev/null; then
  TTLDAPS=$(sed -E 's/.* ldaps=([^ ]+).*/\1/' <<<"$ready2"); TTDNS=$(sed -E 's/.* dns=([^ ]+).*/\1/' <<<"$ready2")
  L1=$(sed -E 's/.* ldap\.DC1=[^:]+:([0-9]+).*/\1/' <<<"$ready2"); L2=$(sed -E 's/.* ldap\.DC2=[^:]+:([0-9]+).*/\1/' <<<"$ready2")
  if command -v dig >/dev/null; then
    out=$(dig +short -p "${TTDNS##*:}" @"${TTDNS%:*}" -t SRV _ldap._tcp.dc._msdcs.contoso.com)
    if grep -Eq "^0 100 $L1 dc1\.contoso\.com\.$" <<<"$out" && grep -Eq "^0 100 $L2 dc2\.contoso\.com\.$" <<<"$out"; then
      ok "dig SRV _ldap._tcp.dc._msdcs.contoso.com lists DC1 and DC2, each with its own LDAP port"
    else bad "dig SRV with two DCs" "$out"; fi
  fi
  ttpw() { $PY -c "import json,sys; print(json.load(open('$tmp/tt/credentials.json'))[sys.argv[1]])" "$1"; }
  tt() { KRB5_CONFIG="$tmp/tt/krb5.conf" KRB5CCNAME="FILE:$tmp/tt.cc" "$@"; }
  TTALICE=$(ttpw alice); TTWEB1=$(ttpw 'WEB1$')
  ttkeytab() { "$BIN" keytab --ldap "ldaps://$TTLDAPS" --ca "$tmp/tt/ca.pem" --bind 'WEB1$@contoso.com' --password "$TTWEB1" --account 'ITFarm1$' --out "$1"; }
  check "before: kinit alice, kvno http/ITFarm1.contoso.com is 1" "kvno = 1$" \
    tt bash -c "echo '$TTALICE' | kinit alice@CONTOSO.COM >/dev/null && kvno http/ITFarm1.contoso.com"
  cp "$tmp/tt.cc" "$tmp/tt.before.cc"
  check "gmsasim ctl advance 30d (and the state says 30 days ahead of the wire)" '"offset": "720h' \
    bash -c "'$BIN' ctl --state-dir '$tmp/tt' advance 30d && '$BIN' ctl --state-dir '$tmp/tt' state"
  check "after: kinit alice on the wall clock still works, kvno http/ITFarm1.contoso.com is 2" "kvno = 2$" \
    tt bash -c "kdestroy 2>/dev/null; echo '$TTALICE' | kinit alice@CONTOSO.COM >/dev/null && kvno http/ITFarm1.contoso.com"
  check "after: gmsasim keytab writes kvno 2 with the previous password as kvno 1" "kvno 2, previous password as kvno 1" \
    ttkeytab "$tmp/tt2.keytab"
  check "after: kvno -k validates a new ticket against that keytab" "kvno = 2, keytab entry valid" \
    tt kvno -k "$tmp/tt2.keytab" http/ITFarm1.contoso.com
  check "after: a ticket saved before the advance (kvno 1) still decrypts with that keytab" "^ok: " \
    env KRB5_CONFIG="$tmp/tt/krb5.conf" $PY "$here/timetravel_check.py" "$tmp/tt.before.cc" "$tmp/tt2.keytab" 'http/ITFarm1.contoso.com@CONTOSO.COM' 1
  check "gmsasim ctl step 'stop DC2' closes DC2's LDAP port" "DC2 stopped" \
    "$BIN" ctl --state-dir "$tmp/tt" step 'stop DC2'
  check "DC2's port refuses connections" "Can't contact LDAP server" \
    ldapsearch -x -LLL -H "ldap://127.0.0.1:$L2" -b "" -s base defaultNamingContext
else
  [ -n "$ready2" ] && bad "time travel" "MIT kinit is missing"
fi

# 15. Conformance (gmsasim conform): the reference product, gmsasim keytab, through a gMSA's life, each
# check in its own world; and the host-keytab (SASL GSSAPI) recipe.
for adapter in gmsasim-keytab gmsasim-keytab-kerberos; do
  out=$("$BIN" conform --adapter "$here/../conform/adapters/$adapter.json" --junit "$tmp/conform-$adapter.xml" 2>&1); rc=$?
  if [ $rc = 0 ] && grep -q "conform $adapter: 10 passed, 0 failed" <<<"$out"; then ok "conform $adapter: every check passes"
  else bad "conform $adapter" "rc=$rc $(grep -v '^pass' <<<"$out" | head -c 800)"; fi
done

# 16. CI output (issue 16): a run with one malformed, one failing and one passing scenario exits 1
# and writes JUnit with errors="1" failures="1" that validates against the JUnit schema CI servers
# read (interop/junit.xsd, with xmllint); so does conform's JUnit; a filter that selects nothing
# exits 2 with the counts.
if command -v xmllint >/dev/null; then
  mkdir -p "$tmp/ci"
  cp "$here/../scenarios/library/kds-key-does-not-exist.scn" "$tmp/ci/"
  cp "$here/../harness/testdata/failing/fails-at-line-9.scn" "$tmp/ci/"
  printf '# broken on purpose\nworld seed=1\nfrobnicate DC1\n----\n' >"$tmp/ci/malformed.scn"
  "$BIN" run "$tmp/ci" --junit "$tmp/ci.xml" >"$tmp/ci.out" 2>&1; rc=$?
  if [ $rc = 1 ] && grep -q 'tests="3" failures="1" errors="1" skipped="0"' "$tmp/ci.xml"; then
    ok "run with a malformed, a failing and a passing file: exit 1, JUnit tests=3 failures=1 errors=1"
  else bad "run with a malformed file" "rc=$rc $(head -c 400 "$tmp/ci.xml")"; fi
  check "that JUnit validates against interop/junit.xsd" "validates" xmllint --noout --schema "$here/junit.xsd" "$tmp/ci.xml"
  if [ -e "$tmp/conform-gmsasim-keytab.xml" ]; then
    check "conform's JUnit validates against interop/junit.xsd" "validates" xmllint --noout --schema "$here/junit.xsd" "$tmp/conform-gmsasim-keytab.xml"
  fi
  out=$("$BIN" run "$tmp/ci/kds-key-does-not-exist.scn" --label-filter no-such-label 2>&1); rc=$?
  if [ $rc = 2 ] && grep -q "filtered out" <<<"$out"; then ok "a label filter that selects nothing exits 2 with the counts"
  else bad "empty selection" "rc=$rc $out"; fi
else bad "JUnit schema" "xmllint not installed (Debian libxml2-utils; .ci/run installs it)"; fi

# 11. Garbage, a truncated PDU and a 70 KB add leave the server answering.
check "robustness: garbage, truncated PDU, 70 KB add" "^ok " \
  $PY "$here/robustness.py" "$LDAP" "$ADMIN_PW"
check "server still answers after the abuse" "defaultNamingContext: $BASE" \
  ldapsearch -x -LLL -H "ldap://$LDAP" -b "" -s base defaultNamingContext
kill -0 $srv 2>/dev/null && ok "server process alive" || bad "server process" "exited: $(tail -5 "$tmp/serve.log")"

echo "interop: $pass passed, $fail failed"
[ $fail = 0 ]
