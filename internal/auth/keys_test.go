package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestLoadPEMFile(t *testing.T) {
	dir := t.TempDir()
	rsaPub := &rsaKey().PublicKey
	cert := func() []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
			NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, rsaPub, rsaKey())
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}()
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, err := x509.MarshalECPrivateKey(ecKey())
	if err != nil {
		t.Fatal(err)
	}
	p224 := mustEC(elliptic.P224())
	tests := []struct {
		name    string
		file    string
		data    []byte
		kids    []string
		wantErr string
	}{
		{"PKIX RSA, kid from the file name", "idp-2026.pem", pemPublic(t, rsaPub, nil), []string{"idp-2026"}, ""},
		{"PKCS#1 RSA", "pkcs1.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsaPub)}), []string{"pkcs1"}, ""},
		{"certificate", "cert.crt", cert, []string{"cert"}, ""},
		{"kid header", "whatever.pem", pemPublic(t, &ecKey().PublicKey, map[string]string{"kid": "k7"}), []string{"k7"}, ""},
		{"two blocks", "two.pem", append(pemPublic(t, rsaPub, map[string]string{"kid": "a"}), pemPublic(t, &ecKey().PublicKey, nil)...), []string{"a", "two"}, ""},
		{"no PEM", "empty.pem", []byte("hello"), nil, "holds no PEM block"},
		{"private key", "priv.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecPriv}), nil, "public key only"},
		{"Ed25519", "ed.pem", pemPublic(t, edPub, nil), nil, "use RSA or ECDSA"},
		{"P-224", "p224.pem", pemPublic(t, &p224.PublicKey, nil), nil, "P-224 is not supported"},
		{"short RSA", "short.pem", pemPublic(t, &mustRSA(1024).PublicKey, nil), nil, "too short"},
		{"corrupt DER", "bad.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}}), nil, "cannot parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, tt.file, tt.data)
			keys, err := loadPEMFile(path)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatal("loadPEMFile accepted the file")
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Errorf("error %q should name %q and say %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kids []string
			for _, k := range keys {
				kids = append(kids, k.kid)
			}
			if strings.Join(kids, ",") != strings.Join(tt.kids, ",") {
				t.Errorf("kids = %v, want %v", kids, tt.kids)
			}
		})
	}
}

func TestCertificateVerifies(t *testing.T) {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: testNow, NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey().PublicKey, ecKey())
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, t.TempDir(), "idp.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	v := newVerifier(t, Config{PublicKeys: []string{path}})
	if _, err := v.Verify(signWith(t, jwt.SigningMethodES256, ecKey(), "idp", claims(nil)), testRoom); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestKeySuits(t *testing.T) {
	rsaPub := &rsaKey().PublicKey
	p256 := &ecKey().PublicKey
	p384 := &ecKeyP384().PublicKey
	tests := []struct {
		key  publicKey
		alg  string
		want bool
	}{
		{publicKey{key: rsaPub}, "RS256", true},
		{publicKey{key: rsaPub}, "RS512", true},
		{publicKey{key: rsaPub}, "HS256", false},
		{publicKey{key: rsaPub}, "ES256", false},
		{publicKey{key: rsaPub, alg: "RS384"}, "RS256", false},
		{publicKey{key: p256}, "ES256", true},
		{publicKey{key: p256}, "ES384", false},
		{publicKey{key: p384}, "ES384", true},
		{publicKey{key: p384}, "ES256", false},
		{publicKey{key: p256}, "RS256", false},
		{publicKey{key: p256}, "HS256", false},
		{publicKey{key: []byte(testSecret)}, "HS256", false},
		{publicKey{key: (*ecdsa.PublicKey)(p256)}, "", false},
	}
	for _, tt := range tests {
		if got := tt.key.suits(tt.alg); got != tt.want {
			t.Errorf("%T (alg %q) suits %q = %v, want %v", tt.key.key, tt.key.alg, tt.alg, got, tt.want)
		}
	}
}
