"""Vendor mode (issue 11): gMSA consumers' own ways of logging on, with unmodified python clients.

Usage: vendor_check.py MODE GMSASIM LDAP_PORT LDAPS_PORT KDC_PORT CA CREDENTIALS
  ldap3-kerberos  ldap3 SASL/KERBEROS from the ticket cache in KRB5CCNAME (WEB1$'s, from its keytab), after
                  StartTLS: reads ITFarm1's password, checked against `gmsasim kds`; WhoAmI is u:CONTOSO\\WEB1$.
  ldap3-ntlm      ldap3 NTLM (Sicily) as CONTOSO\\WEB1$: over StartTLS it reads the password; over plain LDAP
                  (no sealing in ldap3) it gets 0000202D; a wrong password gets 49 with "data 52e". The
                  password goes to ldap3 as "LMHASH:NTHASH" (no MD4 in OpenSSL 3); the wrong one is the
                  hash of a wrong password.
  impacket        impacket's LDAPConnection: login() (NTLM) and kerberosLogin(), each followed by a search.
  impacket-sealed impacket's NTLM asking for SEAL over Sicily, then WhoAmI and the password read with
                  every PDU sealed by impacket's ntlm.SEAL over plain LDAP.
The DC is reached by its DNS name, dc1.contoso.com (mapped to 127.0.0.1), as Kerberos clients need.
Prints one "ok ..." line, or exits non-zero saying what differed.
"""
import json
import socket
import ssl
import sys

from ldap3 import KERBEROS, NTLM, SASL, Connection, Server, Tls

from gmsalib import check_against_kds, password_blob, read_gmsa

mode, gmsasim, ldap_port, ldaps_port, kdc_port, ca, creds_file = sys.argv[1:8]
creds = json.load(open(creds_file))
DC = "dc1.contoso.com"
tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca)


def admin():
    c = Connection(Server(DC, port=int(ldaps_port), use_ssl=True, tls=tls, get_info=None),
                   user="Administrator@contoso.com", password=creds["Administrator"], receive_timeout=10)
    if not c.bind():
        sys.exit(f"bind as Administrator over LDAPS: {c.result}")
    return c


def plain_server():
    return Server(DC, port=int(ldap_port), tls=tls, get_info=None)


def ldap3_kerberos():
    c = Connection(plain_server(), authentication=SASL, sasl_mechanism=KERBEROS, receive_timeout=10)
    c.open()
    if not c.start_tls():
        sys.exit(f"StartTLS: {c.result}")
    if not c.bind():
        sys.exit(f"SASL KERBEROS bind: {c.result}")
    who = c.extend.standard.who_am_i()
    if who != "u:CONTOSO\\WEB1$":
        sys.exit(f"WhoAmI after the Kerberos bind: {who!r}, want u:CONTOSO\\WEB1$")
    res, entries = read_gmsa(c)
    if password_blob(entries) is None:
        sys.exit(f"WEB1$ (Kerberos, StartTLS) did not get msDS-ManagedPassword: {res}")
    gkid, nt = check_against_kds(gmsasim, admin(), entries[0])
    print(f"ok ldap3 SASL/KERBEROS as WEB1$ then StartTLS: ITFarm1's password (id {gkid}, NT hash {nt[:8]}... "
          f"= gmsasim kds); WhoAmI {who}")


def nt_hash(password):
    """The NT hash (MD4 of UTF-16LE) as ldap3's "LMHASH:NTHASH" password form. OpenSSL 3 (Debian 12)
    has no MD4, so ldap3's own NTOWF fails with a plaintext password (it falls back to the "Crypto"
    package, which Debian does not ship); pycryptodomex ("Cryptodome", an impacket dependency) has
    one. The empty LM hash goes first: ldap3 uses only the NT half."""
    from Cryptodome.Hash import MD4
    return "aad3b435b51404eeaad3b435b51404ee:" + MD4.new(password.encode("utf-16-le")).hexdigest()


def ntlm_conn(password, start_tls):
    c = Connection(plain_server(), user="CONTOSO\\WEB1$", password=nt_hash(password), authentication=NTLM,
                   receive_timeout=10)
    c.open()
    if start_tls and not c.start_tls():
        sys.exit(f"StartTLS: {c.result}")
    return c, c.bind()


def ldap3_ntlm():
    c, ok = ntlm_conn(creds["WEB1$"], True)
    if not ok:
        sys.exit(f"NTLM bind as CONTOSO\\WEB1$ over StartTLS: {c.result}")
    res, entries = read_gmsa(c)
    if password_blob(entries) is None:
        sys.exit(f"WEB1$ (NTLM, StartTLS) did not get msDS-ManagedPassword: {res}")
    gkid, nt = check_against_kds(gmsasim, admin(), entries[0])
    c, ok = ntlm_conn(creds["WEB1$"], False)
    if not ok:
        sys.exit(f"NTLM bind as CONTOSO\\WEB1$ over plain LDAP: {c.result}")
    read_gmsa(c)
    if c.result.get("result") != 1 or "0000202D" not in c.result.get("message", ""):
        sys.exit(f"unsealed NTLM read should fail with operationsError 0000202D: {c.result}")
    c, ok = ntlm_conn("wrong-" + creds["WEB1$"], False)
    if ok or c.result.get("result") != 49 or "data 52e" not in c.result.get("message", ""):
        sys.exit(f"NTLM bind with a wrong password: want 49 with data 52e, got {c.result}")
    print(f"ok ldap3 NTLM as CONTOSO\\WEB1$: StartTLS reads ITFarm1's password (NT hash {nt[:8]}... = gmsasim kds); "
          f"plain LDAP gets 0000202D; a wrong password gets 49 data 52e")


def impacket_check():
    # impacket dials the well-known ports (389, 88) of the names it is given; serve listens on
    # ephemeral ones, so the resolver answers with them. The clients themselves are unchanged.
    real = socket.getaddrinfo
    ports = {389: int(ldap_port), 88: int(kdc_port)}

    def getaddrinfo(host, port, *a, **kw):
        return real("127.0.0.1" if host in (DC, "contoso.com", "CONTOSO.COM") else host, ports.get(port, port), *a, **kw)

    socket.getaddrinfo = getaddrinfo
    from impacket.ldap import ldap as ildap
    from impacket.ldap import ldapasn1

    def search(c, who):
        resp = c.search(searchFilter="(sAMAccountName=WEB1$)", attributes=["sAMAccountName", "dNSHostName"])
        names = [str(a["vals"][0]) for e in resp if isinstance(e, ldapasn1.SearchResultEntry)
                 for a in e["attributes"] if str(a["type"]) == "sAMAccountName"]
        if names != ["WEB1$"]:
            sys.exit(f"impacket search after {who}: {names}")

    c = ildap.LDAPConnection(f"ldap://{DC}", "DC=contoso,DC=com")
    c.login("WEB1$", creds["WEB1$"], "CONTOSO")
    search(c, "login() (NTLM)")
    c.close()
    c = ildap.LDAPConnection(f"ldap://{DC}", "DC=contoso,DC=com")
    # useCache=False: the check logs on with the password; impacket would otherwise open
    # KRB5CCNAME, which run.sh sets as "FILE:..." (a prefix impacket does not strip).
    c.kerberosLogin("WEB1$", creds["WEB1$"], "contoso.com", kdcHost=DC, useCache=False)
    search(c, "kerberosLogin()")
    c.close()
    print("ok impacket LDAPConnection: login() (NTLM) and kerberosLogin() as WEB1$, each then a search")


def impacket_sealed():
    """A Sicily NTLM bind with impacket's own NTLM code asking for KEY_EXCH|SIGN|SEAL
    (getNTLMSSPType1(signingRequired=True), as impacket 0.12's LDAPConnection does over ldap://),
    then every PDU sealed with impacket's ntlm.SEAL both ways: WhoAmI and the gMSA password read
    over plain LDAP. impacket 0.10's LDAPConnection cannot seal, so the LDAP messages are built
    with its ldapasn1 and sent by hand."""
    import struct
    from Cryptodome.Cipher import ARC4
    from impacket import ntlm
    from impacket.ldap import ldapasn1 as la
    from pyasn1.codec.ber import decoder, encoder

    s = socket.create_connection(("127.0.0.1", int(ldap_port)), timeout=10)
    buf = b""

    def read_exact(n):
        nonlocal buf
        while len(buf) < n:
            chunk = s.recv(65536)
            if not chunk:
                sys.exit("impacket sealed: the server closed the connection")
            buf += chunk
        out, buf = buf[:n], buf[n:]
        return out

    def read_ber():
        hdr = read_exact(2)
        n = hdr[1]
        if n & 0x80:
            ext = read_exact(n & 0x7f)
            n = int.from_bytes(ext, "big")
            hdr += ext
        return hdr + read_exact(n)

    def message(mid, op, value):
        m = la.LDAPMessage()
        m["messageID"] = mid
        m["protocolOp"][op] = value
        return encoder.encode(m)

    def bind(mid, choice, payload):
        b = la.BindRequest()
        b["version"] = 3
        b["name"] = "WEB1$"
        b["authentication"][choice] = payload
        s.sendall(message(mid, "bindRequest", b))
        r, _ = decoder.decode(read_ber(), asn1Spec=la.LDAPMessage())
        return r["protocolOp"]["bindResponse"]

    negotiate = ntlm.getNTLMSSPType1("", "CONTOSO", signingRequired=True)
    r = bind(1, "sicilyNegotiate", negotiate.getData())
    if int(r["resultCode"]) != 0:
        sys.exit(f"impacket sealed: sicilyNegotiate answered {r['resultCode']}: {r['diagnosticMessage']}")
    type2 = bytes(r["matchedDN"])
    type3, key = ntlm.getNTLMSSPType3(negotiate, type2, "WEB1$", creds["WEB1$"], "CONTOSO")
    r = bind(2, "sicilyResponse", type3.getData())
    if int(r["resultCode"]) != 0:
        sys.exit(f"impacket sealed: sicilyResponse answered {r['resultCode']}: {r['diagnosticMessage']}")
    flags = type3["flags"]
    if not flags & ntlm.NTLMSSP_NEGOTIATE_SEAL:
        sys.exit(f"impacket sealed: SEAL not negotiated (flags {flags:#x})")
    c_sign, s_sign = ntlm.SIGNKEY(flags, key, "Client"), ntlm.SIGNKEY(flags, key, "Server")
    c_seal, s_seal = ARC4.new(ntlm.SEALKEY(flags, key, "Client")).encrypt, ARC4.new(ntlm.SEALKEY(flags, key, "Server")).encrypt
    seq = {"out": 0, "in": 0}

    def send_sealed(data):
        sealed, sig = ntlm.SEAL(flags, c_sign, c_seal, data, data, seq["out"], c_seal)
        seq["out"] += 1
        body = sig.getData() + sealed
        s.sendall(struct.pack(">I", len(body)) + body)

    plain = b""

    def recv_sealed():
        nonlocal plain
        while True:
            if len(plain) >= 2:
                n, h = plain[1], 2
                if n & 0x80:
                    h = 2 + (n & 0x7f)
                    n = int.from_bytes(plain[2:h], "big")
                if len(plain) >= h + n:
                    out, plain = plain[:h + n], plain[h + n:]
                    r, _ = decoder.decode(out, asn1Spec=la.LDAPMessage())
                    return r
            (n,) = struct.unpack(">I", read_exact(4))
            body = read_exact(n)
            msg = s_seal(body[16:])
            want = ntlm.SIGN(flags, s_sign, msg, seq["in"], s_seal).getData()
            if want != body[:16]:
                sys.exit("impacket sealed: the server's signature does not verify")
            seq["in"] += 1
            plain += msg

    ext = la.ExtendedRequest()
    ext["requestName"] = "1.3.6.1.4.1.4203.1.11.3"
    send_sealed(message(3, "extendedReq", ext))
    who = bytes(recv_sealed()["protocolOp"]["extendedResp"]["responseValue"]).decode()
    if who != "u:CONTOSO\\WEB1$":
        sys.exit(f"impacket sealed: WhoAmI {who!r}")
    q = la.SearchRequest()
    q["baseObject"] = "CN=ITFarm1,CN=Managed Service Accounts,DC=contoso,DC=com"
    q["scope"] = la.Scope("baseObject")
    q["derefAliases"] = la.DerefAliases("neverDerefAliases")
    q["sizeLimit"] = 0
    q["timeLimit"] = 0
    q["typesOnly"] = False
    q["filter"]["present"] = "objectClass"
    q["attributes"][0] = "msDS-ManagedPassword"
    send_sealed(message(4, "searchRequest", q))
    blob = None
    while True:
        op = recv_sealed()["protocolOp"]
        if op.getName() == "searchResEntry":
            for a in op["searchResEntry"]["attributes"]:
                if str(a["type"]).lower() == "msds-managedpassword":
                    blob = bytes(a["vals"][0])
        elif op.getName() == "searchResDone":
            done = op["searchResDone"]
            break
    if blob is None or len(blob) < 256:
        sys.exit(f"impacket sealed: no password over the sealed layer: {done['resultCode']} {done['diagnosticMessage']}")
    print(f"ok impacket NTLM (Sicily, KEY_EXCH|SIGN|SEAL, impacket's SEAL) as WEB1$ over plain LDAP: WhoAmI {who}, "
          f"msDS-ManagedPassword {len(blob)} bytes, {seq['out']} sealed requests, {seq['in']} sealed answers")


{"ldap3-kerberos": ldap3_kerberos, "ldap3-ntlm": ldap3_ntlm, "impacket": impacket_check,
 "impacket-sealed": impacket_sealed}[mode]()
