package turn

import (
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

var fuzzServer struct {
	once sync.Once
	s    *Server
	err  error
}

// FuzzEntry sends the TURN server's UDP port an arbitrary datagram, then
// an Allocate request whose username is the same bytes: the server
// (pion's STUN/TURN parsing, then our credential check) must go on
// answering a plain Binding request right after either.
func FuzzEntry(f *testing.F) {
	f.Add([]byte("1700000000:participant"))
	f.Add([]byte("not-a-time:x"))
	f.Add([]byte(":"))
	binding, _ := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	f.Add(binding.Raw)
	f.Add([]byte{0x00, 0x03, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0x19, 0, 4})
	fuzzServer.once.Do(func() {
		fuzzServer.s, fuzzServer.err = New(Config{Secret: testSecret, UDPListen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	})
	if fuzzServer.err != nil {
		f.Fatal(fuzzServer.err)
	}
	addr := fuzzServer.s.Addrs().UDP
	f.Fuzz(func(t *testing.T, data []byte) {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Skip(err) // out of sockets: the machine's problem, not the server's
		}
		defer conn.Close()
		if _, err := conn.WriteTo(data, addr); err != nil {
			return
		}
		alloc, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest),
			stun.NewUsername(string(data)), stun.NewRealm("parley"), stun.NewNonce("n"),
			stun.NewShortTermIntegrity("x"), stun.Fingerprint)
		if err == nil {
			_, _ = conn.WriteTo(alloc.Raw, addr)
		}
		req, _ := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
		if _, err := conn.WriteTo(req.Raw, addr); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		deadline := time.Now().Add(5 * time.Second)
		for {
			_ = conn.SetReadDeadline(deadline)
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				t.Fatalf("no answer to a Binding request after %d bytes of input: %v", len(data), err)
			}
			var m stun.Message
			if m.UnmarshalBinary(buf[:n]) == nil && m.TransactionID == req.TransactionID {
				return
			}
		}
	})
}
