package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// UserCert is an APIC user's certificate-signature login material.
type UserCert struct {
	Key     *rsa.PrivateKey
	KeyPEM  []byte // PKCS#1 "RSA PRIVATE KEY"
	CertPEM []byte
}

// NewUserCert makes a self-signed certificate for the user "admin", valid
// for an hour around now, as an APIC administrator would register it.
func NewUserCert(t testing.TB) UserCert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "admin"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return UserCert{Key: key, KeyPEM: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), CertPEM: pemBlock("CERTIFICATE", der)}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
