"""gMSA password retrieval over LDAP with python ldap3, checked against `gmsasim kds` (issue 3 acceptance 3).

WEB1$ (in ITFarmHosts) reads ITFarm1's msDS-ManagedPassword over LDAPS; its NT hash must equal what the
offline calculator derives from the root key (read by Administrator), the account SID and the password id.
WEB3$ gets the entry without the attribute; over plain LDAP everyone gets 0000202D; alice gets nothing.
"""
import json
import ssl
import sys

from ldap3 import Connection, Server, Tls

from gmsalib import check_against_kds, password_blob, read_gmsa

gmsasim, ldap_hp, ldaps_hp, ca, creds_file = sys.argv[1:6]
creds = json.load(open(creds_file))
tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca)


def conn(name, secure=True):
    hp = ldaps_hp if secure else ldap_hp
    host, port = hp.rsplit(":", 1)
    c = Connection(Server(host, port=int(port), use_ssl=secure, tls=tls if secure else None, get_info=None),
                   user=f"{name}@contoso.com", password=creds[name], receive_timeout=10)
    if not c.bind():
        sys.exit(f"bind as {name}: {c.result}")
    return c


# WEB1$ over LDAPS: the blob, equal to what gmsasim kds derives.
res, entries = read_gmsa(conn("WEB1$"))
if password_blob(entries) is None:
    sys.exit(f"WEB1$ did not get msDS-ManagedPassword: {res} {entries}")
gkid, nt = check_against_kds(gmsasim, conn("Administrator"), entries[0])

# WEB3$ (not in ITFarmHosts): the entry, without the password.
res, entries = read_gmsa(conn("WEB3$"))
if len(entries) != 1 or password_blob(entries) is not None:
    sys.exit(f"WEB3$ should get ITFarm1 without msDS-ManagedPassword: {entries}")

# Plain LDAP: 0000202D for a member too.
c = conn("WEB1$", secure=False)
read_gmsa(c)
if c.result.get("result") != 1 or "0000202D" not in c.result.get("message", ""):
    sys.exit(f"plain LDAP read should fail with operationsError 0000202D: {c.result}")

# alice: nothing of the password.
res, entries = read_gmsa(conn("alice"))
if any(en["msDS-ManagedPassword"].raw_values for en in entries):
    sys.exit("alice got msDS-ManagedPassword")

print(f"ok WEB1$ read ITFarm1's password (id {gkid}, NT hash {nt[:8]}... = gmsasim kds); "
      f"WEB3$ and alice get no password; plain LDAP gets 0000202D")
