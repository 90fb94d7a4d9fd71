#!/usr/bin/env python3
"""Time travel (issue 12): a service ticket saved before the world was advanced past a gMSA's
rotation still decrypts afterwards with the keytab `gmsasim keytab` wrote after it — through the
previous password's key, which the keytab keeps under the kvno before the current one.

Usage: timetravel_check.py SAVED_CCACHE KEYTAB SPN@REALM WANT_KVNO
The initiator uses only the saved ccache (the ticket in it, no new TGS request: the name is a
Kerberos principal name, matched exactly); the acceptor only the keytab. Prints "ok ..." or fails.
"""
import os
import sys

ccache, keytab, spn, want_kvno = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.environ["KRB5CCNAME"] = "FILE:" + ccache
os.environ["KRB5_KTNAME"] = "FILE:" + keytab

import gssapi  # noqa: E402  (after the environment is set: MIT reads it on first use)
from impacket.krb5.asn1 import AP_REQ  # noqa: E402
from pyasn1.codec.der import decoder  # noqa: E402


def ap_req_of(token: bytes) -> bytes:
    """The AP-REQ inside an RFC 2743 InitialContextToken: [APPLICATION 0] { mech OID, 0x0100, AP-REQ }."""
    assert token[0] == 0x60, "not an InitialContextToken"
    i = 1
    if token[i] & 0x80:
        i += 1 + (token[i] & 0x7F)
    else:
        i += 1
    assert token[i] == 0x06
    i += 2 + token[i + 1]  # the mechanism OID
    assert token[i:i + 2] == b"\x01\x00", "not an AP-REQ token"
    return token[i + 2:]


name = gssapi.Name(spn, gssapi.NameType.kerberos_principal)
client = gssapi.SecurityContext(name=name, usage="initiate")
token = client.step()
req, _ = decoder.decode(ap_req_of(token), asn1Spec=AP_REQ())
kvno = int(req["ticket"]["enc-part"]["kvno"])
if kvno != want_kvno:
    sys.exit(f"the saved ticket has kvno {kvno}, want {want_kvno}: a new ticket was fetched instead of the saved one")
server = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept"), usage="accept")
server.step(token)
if not server.complete:
    sys.exit("the acceptor did not complete the context")
print(f"ok: the ticket saved before the rotation (kvno {kvno}) decrypts with {os.path.basename(keytab)}; client {server.initiator_name}")
