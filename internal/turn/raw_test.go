package turn

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// rawClient speaks TURN over UDP message by message, for what pion's
// client will not send: another realm than the server's, or a peer
// address in its IPv4-mapped IPv6 form.
type rawClient struct {
	t                  *testing.T
	conn               net.PacketConn
	server             net.Addr
	username, password string
	realm, nonce       string // from the server's 401
}

func newRawClient(t *testing.T, server net.Addr, username, password string) *rawClient {
	t.Helper()
	local := "127.0.0.1:0"
	if ua, ok := server.(*net.UDPAddr); ok && ua.IP.To4() == nil {
		local = "[::1]:0"
	}
	conn, err := net.ListenPacket("udp", local)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rawClient{t: t, conn: conn, server: server, username: username, password: password}
}

// roundTrip sends a request and returns the response to it.
func (c *rawClient) roundTrip(setters ...stun.Setter) *stun.Message {
	c.t.Helper()
	req, err := stun.Build(append([]stun.Setter{stun.TransactionID}, setters...)...)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.WriteTo(req.Raw, c.server); err != nil {
		c.t.Fatal(err)
	}
	buf := make([]byte, 1600)
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := c.conn.ReadFrom(buf)
		if err != nil {
			c.t.Fatalf("no answer to %v: %v", req.Type, err)
		}
		res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if err := res.Decode(); err != nil || res.TransactionID != req.TransactionID {
			continue
		}
		return res
	}
}

// errorCode is a response's error code, 0 for a success.
func errorCode(m *stun.Message) stun.ErrorCode {
	var code stun.ErrorCodeAttribute
	if m.Type.Class != stun.ClassErrorResponse {
		return 0
	}
	if err := code.GetFrom(m); err != nil {
		return -1
	}
	return code.Code
}

var udpTransport = stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}

// allocate asks for a UDP relay, authenticating in realm ("" for the
// server's own), and returns the error code of the answer (0: allocated).
func (c *rawClient) allocate(realm string) stun.ErrorCode {
	c.t.Helper()
	res := c.roundTrip(stun.NewType(stun.MethodAllocate, stun.ClassRequest), udpTransport, stun.Fingerprint)
	var nonce stun.Nonce
	var serverRealm stun.Realm
	if errorCode(res) != stun.CodeUnauthorized || nonce.GetFrom(res) != nil || serverRealm.GetFrom(res) != nil {
		c.t.Fatalf("unauthenticated Allocate: want 401 with a nonce and realm, got %v", res)
	}
	c.nonce, c.realm = nonce.String(), serverRealm.String()
	if realm == "" {
		realm = c.realm
	}
	return errorCode(c.roundTrip(stun.NewType(stun.MethodAllocate, stun.ClassRequest), udpTransport,
		stun.NewUsername(c.username), stun.NewRealm(realm), stun.NewNonce(c.nonce),
		stun.NewLongTermIntegrity(c.username, realm, c.password), stun.Fingerprint))
}

// createPermission asks for a permission towards peer, whose
// XOR-PEER-ADDRESS is written in peer's own family: ::ffff:10.0.0.1 goes
// out as an IPv6 address, as an attacker would send it.
func (c *rawClient) createPermission(peer netip.Addr) stun.ErrorCode {
	c.t.Helper()
	return errorCode(c.roundTrip(stun.NewType(stun.MethodCreatePermission, stun.ClassRequest),
		xorPeerAddress(peer, 9),
		stun.NewUsername(c.username), stun.NewRealm(c.realm), stun.NewNonce(c.nonce),
		stun.NewLongTermIntegrity(c.username, c.realm, c.password), stun.Fingerprint))
}

// xorPeerAddress encodes XOR-PEER-ADDRESS without normalising the address
// family (stun.XORMappedAddress sends every IPv4-mapped address as IPv4).
type xorPeer struct {
	ip   netip.Addr
	port uint16
}

func xorPeerAddress(ip netip.Addr, port uint16) stun.Setter { return xorPeer{ip, port} }

func (a xorPeer) AddTo(m *stun.Message) error {
	const magicCookie = 0x2112A442
	family, raw := byte(0x01), a.ip.AsSlice()
	if a.ip.Is6() {
		family = 0x02
	}
	key := make([]byte, 16)
	binary.BigEndian.PutUint32(key, magicCookie)
	copy(key[4:], m.TransactionID[:])
	v := make([]byte, 4+len(raw))
	v[1] = family
	binary.BigEndian.PutUint16(v[2:], a.port^(magicCookie>>16))
	for i := range raw {
		v[4+i] = raw[i] ^ key[i]
	}
	m.Add(stun.AttrXORPeerAddress, v)
	return nil
}
