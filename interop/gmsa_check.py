"""gMSA password retrieval over LDAP with python ldap3, checked against `gmsasim kds` (issue 3 acceptance 3).

WEB1$ (in ITFarmHosts) reads ITFarm1's msDS-ManagedPassword over LDAPS; its NT hash must equal what the
offline calculator derives from the root key (read by Administrator), the account SID and the password id.
WEB3$ gets the entry without the attribute; over plain LDAP everyone gets 0000202D; alice gets nothing.
"""
import json
import ssl
import subprocess
import sys

from ldap3 import BASE, SUBTREE, Connection, Server, Tls

gmsasim, ldap_hp, ldaps_hp, ca, creds_file = sys.argv[1:6]
creds = json.load(open(creds_file))
BASE_DN = "DC=contoso,DC=com"
ATTRS = ["msDS-ManagedPassword", "msDS-ManagedPasswordId", "objectSid", "msDS-KeyVersionNumber"]
tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca)


def conn(name, secure=True):
    hp = ldaps_hp if secure else ldap_hp
    host, port = hp.rsplit(":", 1)
    c = Connection(Server(host, port=int(port), use_ssl=secure, tls=tls if secure else None, get_info=None),
                   user=f"{name}@contoso.com", password=creds[name], receive_timeout=10)
    if not c.bind():
        sys.exit(f"bind as {name}: {c.result}")
    return c


def read_gmsa(c):
    c.search(BASE_DN, "(sAMAccountName=ITFarm1$)", SUBTREE, attributes=ATTRS)
    return c.result, c.entries


def sid_string(b):
    """The string form of a binary SID ([MS-DTYP] 2.4.2.2), decoded here, not by the code under test."""
    auth = int.from_bytes(b[2:8], "big")
    subs = [int.from_bytes(b[8 + 4 * i:12 + 4 * i], "little") for i in range(b[1])]
    return "S-%d-%d" % (b[0], auth) + "".join("-%d" % s for s in subs)


def kds(*args):
    out = subprocess.run([gmsasim, "kds", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


# WEB1$ over LDAPS: the blob.
res, entries = read_gmsa(conn("WEB1$"))
if len(entries) != 1 or not entries[0]["msDS-ManagedPassword"].raw_values:
    sys.exit(f"WEB1$ did not get msDS-ManagedPassword: {res} {entries}")
e = entries[0]
blob = e["msDS-ManagedPassword"].raw_values[0]
pwid = e["msDS-ManagedPasswordId"].raw_values[0]
sid = sid_string(e["objectSid"].raw_values[0])
decoded = kds("decode-blob", "--hex", blob.hex())
ident = kds("decode-id", "--hex", pwid.hex())

# Administrator reads the root key named by the password id.
admin = conn("Administrator")
admin.search(f"CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,{BASE_DN}",
             f"(cn={ident['root_key_id']})", SUBTREE, attributes=["cn", "msKds-RootKeyData", "msKds-KDFParam"])
if len(admin.entries) != 1:
    sys.exit(f"root key {ident['root_key_id']} not found: {admin.result}")
rk = admin.entries[0]["msKds-RootKeyData"].raw_values[0]
calc = kds("password", "--root-key-id", ident["root_key_id"], "--root-key-data", rk.hex(), "--sid", str(sid),
           "--password-id", pwid.hex(), "--account", "ITFarm1$", "--domain", "contoso.com")
if calc["nt_hash"] != decoded["current_nt_hash"]:
    sys.exit(f"NT hash from LDAP {decoded['current_nt_hash']} != gmsasim kds {calc['nt_hash']}")
if calc["password_hex"] != decoded["current_password_hex"]:
    sys.exit("password bytes differ between LDAP and gmsasim kds")

# WEB3$ (not in ITFarmHosts): the entry, without the password.
res, entries = read_gmsa(conn("WEB3$"))
if len(entries) != 1 or entries[0]["msDS-ManagedPassword"].raw_values:
    sys.exit(f"WEB3$ should get ITFarm1 without msDS-ManagedPassword: {entries}")

# Plain LDAP: 0000202D for a member too.
c = conn("WEB1$", secure=False)
c.search(BASE_DN, "(sAMAccountName=ITFarm1$)", SUBTREE, attributes=ATTRS)
if c.result.get("result") != 1 or "0000202D" not in c.result.get("message", ""):
    sys.exit(f"plain LDAP read should fail with operationsError 0000202D: {c.result}")

# alice: nothing of the password.
res, entries = read_gmsa(conn("alice"))
if any(en["msDS-ManagedPassword"].raw_values for en in entries):
    sys.exit("alice got msDS-ManagedPassword")

print(f"ok WEB1$ read ITFarm1's password (id {ident['gkid']}, NT hash {calc['nt_hash'][:8]}... = gmsasim kds); "
      f"WEB3$ and alice get no password; plain LDAP gets 0000202D")
