package ldapsrv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"
)

// CA is a world's own certificate authority. Clients trust the DC's certificate with the CA's PEM
// alone (ldapsearch with LDAPTLS_CACERT, go-ldap with a RootCAs pool, python ldap3).
type CA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
	rand io.Reader
}

// Validity of every certificate: fixed, so nothing reads the wall clock, and wide enough for any
// real clock a client checks against.
// Divergence: an AD CS certificate lives for a year or two and carries AD-specific extensions.
var (
	certNotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)
)

// NewCA makes a fresh CA. rand is the entropy for keys and serial numbers; nil means crypto/rand.
// TLS keys are the one place real randomness is allowed (STYLE.md): a handshake is not part of
// the simulation's observable state.
func NewCA(rand io.Reader) (*CA, error) {
	if rand == nil {
		rand = cryptorand.Reader // TLS key generation: real randomness on purpose
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, fmt.Errorf("ldapsrv: CA key: %w", err)
	}
	serial, err := serialNumber(rand)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gmsasim simulated domain CA"},
		NotBefore:             certNotBefore,
		NotAfter:              certNotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("ldapsrv: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ldapsrv: CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key, rand: rand,
		pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// PEM is the CA certificate in PEM form, as written to the state directory as ca.pem.
func (ca *CA) PEM() []byte { return append([]byte(nil), ca.pem...) }

// Certificate is the CA certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// ServerTLSConfig issues a server certificate for 127.0.0.1, ::1, localhost and dnsNames (the DC's
// dnsHostName) and returns a TLS configuration serving it.
func (ca *CA) ServerTLSConfig(dnsNames ...string) (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), ca.rand)
	if err != nil {
		return nil, fmt.Errorf("ldapsrv: server key: %w", err)
	}
	serial, err := serialNumber(ca.rand)
	if err != nil {
		return nil, err
	}
	cn := "localhost"
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    certNotBefore,
		NotAfter:     certNotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     append([]string{"localhost"}, dnsNames...),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(ca.rand, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("ldapsrv: server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ldapsrv: server certificate: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}},
		MinVersion:   tls.VersionTLS12,
	}, nil
}

func serialNumber(rand io.Reader) (*big.Int, error) {
	n, err := cryptorand.Int(rand, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("ldapsrv: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
