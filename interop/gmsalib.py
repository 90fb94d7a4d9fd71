"""What the interop checks share: the gMSA read and its check against `gmsasim kds`.

The check decodes nothing with the code under test's help beyond the offline calculator: the SID is
decoded here, the root key is read over LDAP as Administrator, and `gmsasim kds password` derives the
password from them; its NT hash must equal the one in the blob read over the wire.
"""
import json
import subprocess

from ldap3 import SUBTREE

BASE_DN = "DC=contoso,DC=com"
ATTRS = ["msDS-ManagedPassword", "msDS-ManagedPasswordId", "objectSid", "msDS-KeyVersionNumber"]
ROOT_KEYS = f"CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,{BASE_DN}"


def read_gmsa(c, sam="ITFarm1$"):
    """Searches for the gMSA; returns (result, entries)."""
    c.search(BASE_DN, f"(sAMAccountName={sam})", SUBTREE, attributes=ATTRS)
    return c.result, c.entries


def password_blob(entries):
    """The msDS-ManagedPassword value of the one entry, or None."""
    if len(entries) != 1 or not entries[0]["msDS-ManagedPassword"].raw_values:
        return None
    return entries[0]["msDS-ManagedPassword"].raw_values[0]


def sid_string(b):
    """The string form of a binary SID ([MS-DTYP] 2.4.2.2), decoded here, not by the code under test."""
    auth = int.from_bytes(b[2:8], "big")
    subs = [int.from_bytes(b[8 + 4 * i:12 + 4 * i], "little") for i in range(b[1])]
    return "S-%d-%d" % (b[0], auth) + "".join("-%d" % s for s in subs)


def kds(gmsasim, *args):
    out = subprocess.run([gmsasim, "kds", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def check_against_kds(gmsasim, admin, entry, account="ITFarm1$"):
    """Derives the password offline from the root key (read by admin) and checks the blob read in entry.

    Returns (gkid, nt_hash); exits with a message when they differ."""
    blob = entry["msDS-ManagedPassword"].raw_values[0]
    pwid = entry["msDS-ManagedPasswordId"].raw_values[0]
    sid = sid_string(entry["objectSid"].raw_values[0])
    decoded = kds(gmsasim, "decode-blob", "--hex", blob.hex())
    ident = kds(gmsasim, "decode-id", "--hex", pwid.hex())
    admin.search(ROOT_KEYS, f"(cn={ident['root_key_id']})", SUBTREE, attributes=["cn", "msKds-RootKeyData"])
    if len(admin.entries) != 1:
        raise SystemExit(f"root key {ident['root_key_id']} not found: {admin.result}")
    rk = admin.entries[0]["msKds-RootKeyData"].raw_values[0]
    calc = kds(gmsasim, "password", "--root-key-id", ident["root_key_id"], "--root-key-data", rk.hex(),
               "--sid", sid, "--password-id", pwid.hex(), "--account", account, "--domain", "contoso.com")
    if calc["nt_hash"] != decoded["current_nt_hash"]:
        raise SystemExit(f"NT hash from LDAP {decoded['current_nt_hash']} != gmsasim kds {calc['nt_hash']}")
    if calc["password_hex"] != decoded["current_password_hex"]:
        raise SystemExit("password bytes differ between LDAP and gmsasim kds")
    return ident["gkid"], calc["nt_hash"]
