"""Abuse the LDAP port with raw bytes, then prove the server still serves a fresh client."""
import socket
import struct
import sys

hostport, admin_pw = sys.argv[1], sys.argv[2]
host, port = hostport.rsplit(":", 1)
addr = (host, int(port))


def send_raw(data, read=True):
    s = socket.create_connection(addr, timeout=5)
    s.sendall(data)
    if read:
        try:
            s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            pass
    s.close()


def ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + ber_len(len(body)) + body


def octets(s):
    return tlv(0x04, s if isinstance(s, bytes) else s.encode())


def msg(mid, op):
    return tlv(0x30, tlv(0x02, bytes([mid])) + op)


def bind(mid, dn, pw):
    return msg(mid, tlv(0x60, tlv(0x02, b"\x03") + octets(dn) + tlv(0x80, pw.encode())))


def read_msg(s):
    hdr = s.recv(2)
    if len(hdr) < 2:
        raise RuntimeError("connection closed")
    n = hdr[1]
    if n & 0x80:
        ln = s.recv(n & 0x7F)
        n = int.from_bytes(ln, "big")
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            raise RuntimeError("short read")
        body += chunk
    return body


send_raw(b"\xde\xad\xbe\xef" * 64)                       # not BER at all
send_raw(b"\x30\x84\x00\x00\x10\x00\x02\x01\x01", read=False)  # truncated: promises 4 KB, sends 3 bytes
send_raw(bytes(range(256)) * 16)                          # 4 KB of noise starting with 0x00

# A 70 KB add over one connection, after a bind, must be answered.
s = socket.create_connection(addr, timeout=10)
s.sendall(bind(1, "Administrator@contoso.com", admin_pw))
resp = read_msg(s)
if b"\x0a\x01\x00" not in resp:
    sys.exit(f"bind failed: {resp.hex()}")
dn = "CN=big70k,CN=Users,DC=contoso,DC=com"
attrs = tlv(0x30, octets("objectClass") + tlv(0x31, octets("user")))
attrs += tlv(0x30, octets("sAMAccountName") + tlv(0x31, octets("big70k")))
attrs += tlv(0x30, octets("description") + tlv(0x31, octets("x" * 1000)))
attrs += tlv(0x30, octets("info") + tlv(0x31, octets("y" * 70000)))
add = msg(2, tlv(0x68, octets(dn) + tlv(0x30, attrs)))
if len(add) < 70000:
    sys.exit("add PDU is not 70 KB")
s.sendall(add)
resp = read_msg(s)
# AddResponse [APPLICATION 9] = 0x69, resultCode 0
if b"\x69" not in resp[:8] or b"\x0a\x01\x00" not in resp:
    sys.exit(f"70 KB add not accepted: {resp.hex()[:200]}")
s.close()
print(f"ok garbage and truncated PDUs survived; {len(add)}-byte add accepted")
