package edge

import (
	"bytes"
	"testing"

	"github.com/pion/stun/v4"
)

// framed puts an RFC 4571 length before b.
func framed(b []byte) []byte {
	return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)
}

func bindingRequest(t testing.TB) []byte {
	m, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername("ufrag:remote"), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

func TestClassify(t *testing.T) {
	binding := bindingRequest(t)
	clientHello := []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}
	for _, tc := range []struct {
		name  string
		in    []byte
		want  Kind
		inner Kind
	}{
		{"empty", nil, KindUndecided, KindUndecided},
		{"TLS after two bytes", clientHello[:2], KindTLS, KindUndecided},
		{"TLS hello", clientHello, KindTLS, KindGarbage},
		{"0x16 without TLS version", []byte{0x16, 0x01}, KindGarbage, KindUndecided},
		{"one byte of TLS", clientHello[:1], KindUndecided, KindUndecided},
		{"STUN", binding, KindSTUN, KindSTUN},
		{"STUN header only", binding[:8], KindSTUN, KindSTUN},
		{"STUN, 7 bytes", binding[:7], KindUndecided, KindUndecided},
		{"ICE-TCP", framed(binding), KindICETCP, KindGarbage},
		{"ICE-TCP header", framed(binding)[:PeekSize], KindICETCP, KindGarbage},
		{"ICE-TCP, 9 bytes", framed(binding)[:9], KindUndecided, KindGarbage},
		{"framing that does not match the STUN length", append([]byte{0x00, 0x30}, binding...), KindGarbage, KindGarbage},
		{"GET", []byte("GET / HTTP/1.1\r\n"), KindHTTP, KindHTTP},
		{"POST", []byte("POST /x HTTP/1.1\r\n"), KindHTTP, KindHTTP},
		{"two letters of GET", []byte("GE"), KindUndecided, KindHTTP},
		{"a word that is no method", []byte("HELLO"), KindGarbage, KindHTTP},
		{"SSH banner", []byte("SSH-2.0-OpenSSH_9.6\r\n"), KindGarbage, KindHTTP},
		{"zeros", make([]byte, 16), KindGarbage, KindGarbage},
		{"binary", []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09}, KindGarbage, KindGarbage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.in); got != tc.want {
				t.Errorf("Classify(% x) = %v, want %v", tc.in, got, tc.want)
			}
			if got := ClassifyInner(tc.in); got != tc.inner {
				t.Errorf("ClassifyInner(% x) = %v, want %v", tc.in, got, tc.inner)
			}
		})
	}
}

// FuzzClassify: no input panics, PeekSize bytes always decide, and a
// decision never changes as more bytes arrive.
func FuzzClassify(f *testing.F) {
	f.Add(bindingRequest(f))
	f.Add(framed(bindingRequest(f)))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Add([]byte{0x16, 0x03, 0x01, 0x00})
	f.Add([]byte{0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, classify := range []func([]byte) Kind{Classify, ClassifyInner} {
			decided := KindUndecided
			for n := 0; n <= len(b); n++ {
				k := classify(b[:n])
				if decided != KindUndecided && k != decided {
					t.Fatalf("% x: decided %v at a shorter prefix, %v at %d bytes", b, decided, k, n)
				}
				if k != KindUndecided {
					decided = k
				}
				if n >= PeekSize && k == KindUndecided {
					t.Fatalf("% x: undecided at %d bytes", b[:n], n)
				}
			}
		}
	})
}

func TestPrefixConnReplays(t *testing.T) {
	var got bytes.Buffer
	c := &prefixConn{Conn: readerConn{bytes.NewReader([]byte("rest"))}, prefix: []byte("first ")}
	buf := make([]byte, 3)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if got.String() != "first rest" {
		t.Errorf("read %q, want %q", got.String(), "first rest")
	}
}
