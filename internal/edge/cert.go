package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// Where a TLS certificate comes from.
const (
	CertFiles      = "files"
	CertACME       = "acme"
	CertSelfSigned = "self-signed"
)

// CertConfig says where the edge's certificate comes from: files when
// CertFile and KeyFile are set, else ACME when ACMEDomains are, else a
// self-signed certificate made at start.
type CertConfig struct {
	CertFile, KeyFile string
	// ACMEDomains are the host names to get certificates for (Let's
	// Encrypt, tls-alpn-01 on the edge's port, which must be 443 as seen
	// from the internet); ACMEEmail is the account's contact; ACMECacheDir
	// keeps the account and certificates across restarts.
	ACMEDomains  []string
	ACMEEmail    string
	ACMECacheDir string
	// ACMEDirectory is the CA's directory URL; empty is Let's Encrypt.
	ACMEDirectory string
	// Hosts are the names and addresses a self-signed certificate is for,
	// besides localhost and the loopback addresses.
	Hosts  []string
	Logger *slog.Logger
}

// NewTLSConfig returns the TLS configuration of the edge and where its
// certificate comes from (CertFiles, CertACME, CertSelfSigned). It offers
// HTTP/1.1 only: WebSocket signaling needs it, and TURN clients negotiate
// nothing.
func NewTLSConfig(c CertConfig) (*tls.Config, string, error) {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	switch {
	case c.CertFile != "" || c.KeyFile != "":
		fc, err := loadFileCert(c.CertFile, c.KeyFile, log)
		if err != nil {
			return nil, "", err
		}
		cfg.GetCertificate = fc.get
		return cfg, CertFiles, nil
	case len(c.ACMEDomains) > 0:
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(c.ACMEDomains...),
			Email:      c.ACMEEmail,
		}
		if c.ACMECacheDir != "" {
			m.Cache = autocert.DirCache(c.ACMECacheDir)
		}
		if c.ACMEDirectory != "" {
			m.Client = &acme.Client{DirectoryURL: c.ACMEDirectory}
		}
		cfg.GetCertificate = m.GetCertificate
		cfg.NextProtos = append(cfg.NextProtos, acme.ALPNProto)
		return cfg, CertACME, nil
	}
	cert, err := SelfSigned(c.Hosts, time.Now())
	if err != nil {
		return nil, "", err
	}
	cfg.Certificates = []tls.Certificate{cert}
	log.Warn("TLS: no certificate configured, using a self-signed one made at start: browsers will warn, "+
		"and TURN over TLS in browsers will fail; set --tls-cert and --tls-key, or --acme-domains, for real use",
		"hosts", append([]string{"localhost", "127.0.0.1", "::1"}, c.Hosts...))
	return cfg, CertSelfSigned, nil
}

// SelfSigned makes a certificate for localhost, the loopback addresses and
// hosts (names or IP addresses), valid for a year from now.
func SelfSigned(hosts []string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %v", ErrCertificate, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %v", ErrCertificate, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Parley development certificate"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %v", ErrCertificate, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %v", ErrCertificate, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// fileCert serves a certificate from PEM files and reloads it when the
// files change, so a renewal (certbot and the like) needs no restart.
type fileCert struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

// recheckEvery bounds how often a handshake looks at the files.
const recheckEvery = time.Minute

func loadFileCert(certFile, keyFile string, log *slog.Logger) (*fileCert, error) {
	fc := &fileCert{certFile: certFile, keyFile: keyFile, log: log}
	if err := fc.load(time.Now()); err != nil {
		return nil, err
	}
	return fc, nil
}

func (fc *fileCert) load(now time.Time) error {
	mod, err := fc.latestModTime()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(fc.certFile, fc.keyFile)
	if err != nil {
		return fmt.Errorf("%w: --tls-cert %s, --tls-key %s: %v", ErrCertificate, fc.certFile, fc.keyFile, err)
	}
	fc.cert, fc.modTime, fc.checked = &cert, mod, now
	if leaf := cert.Leaf; leaf != nil && now.After(leaf.NotAfter) {
		fc.log.Warn("TLS: the certificate has expired; clients will refuse it", "file", fc.certFile, "not_after", leaf.NotAfter)
	}
	return nil
}

func (fc *fileCert) latestModTime() (time.Time, error) {
	var latest time.Time
	for _, f := range []string{fc.certFile, fc.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return latest, fmt.Errorf("%w: %v", ErrCertificate, err)
		}
		if st.ModTime().After(latest) {
			latest = st.ModTime()
		}
	}
	return latest, nil
}

func (fc *fileCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	now := time.Now()
	if now.Sub(fc.checked) >= recheckEvery {
		fc.checked = now
		if mod, err := fc.latestModTime(); err == nil && !mod.Equal(fc.modTime) {
			if err := fc.load(now); err != nil {
				// Keep serving the old one; a half-written renewal fixes
				// itself on a later check.
				fc.log.Warn("TLS: reloading the certificate failed; keeping the old one", "err", err)
			} else {
				fc.log.Info("TLS: certificate reloaded", "file", fc.certFile)
			}
		}
	}
	return fc.cert, nil
}
