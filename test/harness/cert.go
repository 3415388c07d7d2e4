package harness

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley/parley/internal/edge"
)

// CertFiles writes a self-signed certificate for hosts (localhost and
// loopback always included) and its key as PEM files, for --tls-cert and
// --tls-key, and returns them with a pool that trusts the certificate.
func CertFiles(t testing.TB, hosts ...string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	cert, err := edge.SelfSigned(hosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	return certFile, keyFile, roots
}
