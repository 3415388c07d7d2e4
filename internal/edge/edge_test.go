package edge

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/parley/parley/test/testlog"
)

// readerConn is a net.Conn that reads from r and does nothing else.
type readerConn struct{ r io.Reader }

func (c readerConn) Read(p []byte) (int, error)     { return c.r.Read(p) }
func (readerConn) Write(p []byte) (int, error)      { return len(p), nil }
func (readerConn) Close() error                     { return nil }
func (readerConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (readerConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (readerConn) SetDeadline(time.Time) error      { return nil }
func (readerConn) SetReadDeadline(time.Time) error  { return nil }
func (readerConn) SetWriteDeadline(time.Time) error { return nil }

// testEdge runs an edge on loopback with a self-signed certificate. TURN
// connections are answered with their first 8 bytes; HTTP with "hello".
func testEdge(t *testing.T, cfg Config) (*Edge, *x509.CertPool) {
	t.Helper()
	cert, err := SelfSigned(nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	cfg.Addr = "127.0.0.1:0"
	cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	if cfg.FirstBytesTimeout == 0 {
		cfg.FirstBytesTimeout = 300 * time.Millisecond
	}
	cfg.Logger = testlog.New(t)
	cfg.TURN = func(c net.Conn) error {
		go func() {
			defer c.Close()
			buf := make([]byte, 8)
			if _, err := io.ReadFull(c, buf); err == nil {
				_, _ = c.Write(buf)
			}
		}()
		return nil
	}
	e, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := HTTPServer(&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && r.TLS.HandshakeComplete {
			_, _ = w.Write([]byte("hello over tls"))
			return
		}
		_, _ = w.Write([]byte("hello"))
	})})
	go func() { _ = srv.Serve(e.HTTP()) }()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = e.Close()
	})
	return e, roots
}

// echoed writes msg and reads back len(want) bytes.
func echoed(t *testing.T, c net.Conn, msg []byte, n int) []byte {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return buf
}

func closedWithin(c net.Conn, d time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("still open after %s", d)
	}
	return nil
}

func TestEdgeKinds(t *testing.T) {
	e, roots := testEdge(t, Config{ICETCP: true})
	addr := e.Addr().String()
	binding := bindingRequest(t)

	t.Run("https", func(t *testing.T) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		resp, err := hc.Get("https://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if string(body) != "hello over tls" {
			t.Errorf("body %q: want the request to know it came over TLS", body)
		}
	})
	t.Run("https, raw", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, err := io.ReadAll(c)
		if !bytes.HasSuffix(resp, []byte("hello over tls")) {
			t.Errorf("answer %q (%v)", resp, err)
		}
	})
	t.Run("turn over tls", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := echoed(t, c, binding, 8); !bytes.Equal(got, binding[:8]) {
			t.Errorf("TURN saw % x, want the message's start % x", got, binding[:8])
		}
	})
	t.Run("turn over tcp", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := echoed(t, c, binding, 8); !bytes.Equal(got, binding[:8]) {
			t.Errorf("TURN saw % x, want % x", got, binding[:8])
		}
	})
	t.Run("ice-tcp", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		msg := framed(binding)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got, err := e.ICETCP().Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer got.Close()
		if got.LocalAddr().String() == "" || e.ICETCP().Addr().(*net.TCPAddr).Port != e.Addr().Port {
			t.Errorf("ICE-TCP listener at %v, want the edge's port", e.ICETCP().Addr())
		}
		buf := make([]byte, len(msg))
		_ = got.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(got, buf); err != nil || !bytes.Equal(buf, msg) {
			t.Errorf("the bridge read % x (%v), want % x", buf, err, msg)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		for _, junk := range [][]byte{[]byte("SSH-2.0-x\r\n"), make([]byte, 32), {0x16, 0x01}} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = c.Write(junk)
			if err := closedWithin(c, time.Second); err != nil {
				t.Errorf("% x: %v", junk, err)
			}
			c.Close()
		}
	})
	t.Run("garbage inside tls", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write(make([]byte, 16))
		if err := closedWithin(c, time.Second); err != nil {
			t.Error(err)
		}
	})
	t.Run("silent", func(t *testing.T) {
		start := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := closedWithin(c, 3*time.Second); err != nil {
			t.Error(err)
		}
		if took := time.Since(start); took < 250*time.Millisecond {
			t.Errorf("closed after %s, before the first-bytes timeout", took)
		}
	})
	st := e.Stats()
	if st.HTTPS != 2 || st.TURNTLS != 1 || st.TURNTCP != 1 || st.ICETCP != 1 || st.Dropped < 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestEdgeRedirectsPlainHTTP(t *testing.T) {
	e, _ := testEdge(t, Config{})
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get("http://" + e.Addr().String() + "/room?name=Ann")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	want := fmt.Sprintf("https://127.0.0.1:%d/room?name=Ann", e.Addr().Port)
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Errorf("%s to %q, want 308 to %q", resp.Status, resp.Header.Get("Location"), want)
	}
}

// slowConn delays its second write, as a client on a link with a long
// round trip sends its TLS Finished late.
type slowConn struct {
	net.Conn
	delay  time.Duration
	writes int
}

func (c *slowConn) Write(p []byte) (int, error) {
	c.writes++
	if c.writes == 2 {
		time.Sleep(c.delay)
	}
	return c.Conn.Write(p)
}

// A TLS handshake has HandshakeTimeout to finish, not what is left of the
// first bytes' deadline.
func TestEdgeSlowHandshake(t *testing.T) {
	e, roots := testEdge(t, Config{FirstBytesTimeout: 200 * time.Millisecond})
	raw, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(&slowConn{Conn: raw, delay: 500 * time.Millisecond}, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}})
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(c)
	if err != nil || !bytes.Contains(body, []byte("hello over tls")) {
		t.Fatalf("after a slow handshake: %q, %v", body, err)
	}
}

// ICE-TCP without a bridge to take it is closed.
func TestEdgeWithoutICETCP(t *testing.T) {
	e, _ := testEdge(t, Config{})
	if e.ICETCP() != nil {
		t.Fatal("an ICE-TCP listener without Config.ICETCP")
	}
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write(framed(bindingRequest(t)))
	if err := closedWithin(c, time.Second); err != nil {
		t.Error(err)
	}
}

// Past MaxPending undecided connections, new ones are closed at once;
// once the slow ones are gone, connections are served again.
func TestEdgeMaxPending(t *testing.T) {
	e, roots := testEdge(t, Config{MaxPending: 2, FirstBytesTimeout: time.Second})
	addr := e.Addr().String()
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	time.Sleep(100 * time.Millisecond) // both accepted and waiting
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if err := closedWithin(c, 500*time.Millisecond); err != nil {
		t.Errorf("a third undecided connection: %v", err)
	}
	if time.Since(start) > 400*time.Millisecond {
		t.Errorf("the third connection waited %s; want it closed at once", time.Since(start))
	}
	time.Sleep(1500 * time.Millisecond) // the slow ones time out
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := hc.Get("https://" + addr + "/")
	if err != nil {
		t.Fatalf("after the slow connections: %v", err)
	}
	_ = resp.Body.Close()
}

func TestSelfSigned(t *testing.T) {
	cert, err := SelfSigned([]string{"meet.example.org", "203.0.113.7"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "meet.example.org", "203.0.113.7"} {
		if err := cert.Leaf.VerifyHostname(host); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}

func writePEM(certFile, keyFile string, cert tls.Certificate) error {
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// Certificate files are served, and picked up again when they change.
func TestFileCertReloads(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := dir+"/cert.pem", dir+"/key.pem"
	write := func(host string, mod time.Time) []byte {
		cert, err := SelfSigned([]string{host}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := writePEM(certFile, keyFile, cert); err != nil {
			t.Fatal(err)
		}
		_ = os.Chtimes(certFile, mod, mod)
		_ = os.Chtimes(keyFile, mod, mod)
		return cert.Certificate[0]
	}
	first := write("one.example", time.Now().Add(-time.Hour))
	if _, source, err := NewTLSConfig(CertConfig{CertFile: certFile, KeyFile: keyFile}); err != nil || source != CertFiles {
		t.Fatalf("NewTLSConfig: %v, %s", err, source)
	}
	fc, err := loadFileCert(certFile, keyFile, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fc.get(nil); !bytes.Equal(got.Certificate[0], first) {
		t.Fatal("not the certificate of the files")
	}
	second := write("two.example", time.Now())
	if got, _ := fc.get(nil); !bytes.Equal(got.Certificate[0], first) {
		t.Error("files looked at again within a minute")
	}
	fc.mu.Lock()
	fc.checked = time.Now().Add(-recheckEvery) // a minute later
	fc.mu.Unlock()
	if got, _ := fc.get(nil); !bytes.Equal(got.Certificate[0], second) {
		t.Error("the renewed certificate was not picked up")
	}
	if _, _, err := NewTLSConfig(CertConfig{CertFile: dir + "/missing.pem", KeyFile: keyFile}); !errors.Is(err, ErrCertificate) {
		t.Errorf("missing file: %v, want ErrCertificate", err)
	}
}

func TestSelfSignedByDefault(t *testing.T) {
	cfg, source, err := NewTLSConfig(CertConfig{Hosts: []string{"meet.example.org"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil || source != CertSelfSigned || len(cfg.Certificates) != 1 {
		t.Fatalf("NewTLSConfig: %v, %s", err, source)
	}
	cfg, source, err = NewTLSConfig(CertConfig{ACMEDomains: []string{"meet.example.org"}, ACMECacheDir: t.TempDir()})
	if err != nil || source != CertACME || cfg.GetCertificate == nil || !slices.Contains(cfg.NextProtos, "acme-tls/1") {
		t.Fatalf("ACME: %v, %s, %+v", err, source, cfg)
	}
}
