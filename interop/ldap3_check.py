"""python ldap3 against gmsasim serve: TLS verified with ca.pem, schema read with get_info=ALL."""
import ssl
import sys

from ldap3 import ALL, SUBTREE, Connection, Server, Tls

hostport, ca, admin_pw = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = hostport.rsplit(":", 1)
tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca)
server = Server(host, port=int(port), use_ssl=True, tls=tls, get_info=ALL, connect_timeout=5)
conn = Connection(server, user="CONTOSO\\Administrator", password=admin_pw, receive_timeout=10)
if not conn.bind():
    sys.exit(f"bind failed: {conn.result}")
info, schema = server.info, server.schema
if info is None or "DC=contoso,DC=com" not in [str(x) for x in info.naming_contexts]:
    sys.exit(f"rootDSE not read: {info}")
if schema is None or "sAMAccountName" not in schema.attribute_types or "computer" not in schema.object_classes:
    sys.exit("subschema not read: attributeTypes/objectClasses missing")
conn.search("DC=contoso,DC=com", "(sAMAccountName=alice)", SUBTREE, attributes=["objectSid", "memberOf", "whenCreated"])
if len(conn.entries) != 1:
    sys.exit(f"search for alice: {len(conn.entries)} entries, {conn.result}")
sid = conn.entries[0].objectSid.value
if not str(sid).startswith("S-1-5-21-"):
    sys.exit(f"objectSid not decoded as a SID by ldap3's schema: {sid!r}")
print(f"ok ldap3 read {len(schema.attribute_types)} attributeTypes, {len(schema.object_classes)} objectClasses; alice is {sid}")
