"""Vendor mode (issue 11): gMSA consumers' own ways of logging on, with unmodified python clients.

Usage: vendor_check.py MODE GMSASIM LDAP_PORT LDAPS_PORT KDC_PORT CA CREDENTIALS
  ldap3-kerberos  ldap3 SASL/KERBEROS from the ticket cache in KRB5CCNAME (WEB1$'s, from its keytab), after
                  StartTLS: reads ITFarm1's password, checked against `gmsasim kds`; WhoAmI is u:CONTOSO\\WEB1$.
  ldap3-ntlm      ldap3 NTLM (Sicily) as CONTOSO\\WEB1$: over StartTLS it reads the password; over plain LDAP
                  (no sealing in ldap3) it gets 0000202D; a wrong password gets 49 with "data 52e". The
                  password goes to ldap3 as "LMHASH:NTHASH" (no MD4 in OpenSSL 3); the wrong one is the
                  hash of a wrong password.
  impacket        impacket's LDAPConnection: login() (NTLM) and kerberosLogin(), each followed by a search.
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


{"ldap3-kerberos": ldap3_kerberos, "ldap3-ntlm": ldap3_ntlm, "impacket": impacket_check}[mode]()
