package turn

import (
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// authenticate is pion's AuthHandler. It returns the key of the TURN REST
// password for the username, and the user that quotas count; pion then
// checks the message integrity with that key (a wrong one is reported to
// onAuth as forged).
//
// The expiry gates new allocations only: refreshes, permissions and
// channel binds of an allocation made in time go on with the credential it
// was made with, since a browser keeps using it for as long as the call
// lasts. Those requests come on the allocation's own 5-tuple and are
// checked against its user, so nobody else can use an expired credential.
func (s *Server) authenticate(ra *turn.RequestAttributes) (user string, key []byte, ok bool) {
	if ra.Realm != s.cfg.Realm {
		s.refuseAuth(RefusedRealm, ra.Username, ra.SrcAddr, ra.Method.String(), "realm", ra.Realm)
		return "", nil, false
	}
	expiry, user, ok := parseUsername(ra.Username)
	if !ok {
		s.refuseAuth(RefusedMalformed, ra.Username, ra.SrcAddr, ra.Method.String())
		return "", nil, false
	}
	if ra.Method == stun.MethodAllocate && !time.Now().Before(expiry) {
		s.refuseAuth(RefusedExpired, ra.Username, ra.SrcAddr, ra.Method.String(), "expired_at", expiry.UTC().Format(time.RFC3339))
		return "", nil, false
	}
	password := restPassword(s.cfg.Secret, ra.Username)
	return user, turn.GenerateAuthKey(ra.Username, ra.Realm, password), true
}

// refuseAuth counts and logs a refused credential. Usernames are not
// secret (an expiry and a user id); nothing of the password is logged.
func (s *Server) refuseAuth(reason, username string, src net.Addr, method string, attrs ...any) {
	switch reason {
	case RefusedRealm:
		s.totals.realm.Add(1)
	case RefusedMalformed:
		s.totals.malformed.Add(1)
	case RefusedExpired:
		s.totals.expired.Add(1)
	case RefusedForged:
		s.totals.forged.Add(1)
	}
	if len(username) > 64 {
		username = username[:64] + "…"
	}
	s.log.Info("turn: credential refused",
		append([]any{"reason", reason, "username", username, "client", addrString(src), "method", method}, attrs...)...)
}

// permitPeer is pion's PermissionHandler, run for every CreatePermission
// and ChannelBind: peers outside the allowed networks in a refused class
// are refused with 403.
func (s *Server) permitPeer(client net.Addr, peer net.IP) bool {
	ip, _ := netip.AddrFromSlice(peer)
	if s.cfg.Self.own(ip) {
		// Permissions name no port: the relay socket lets through only
		// what goes to the media port (relayConn.WriteTo).
		if s.cfg.Self.MediaPorts == nil || len(s.cfg.Self.MediaPorts()) == 0 {
			s.totals.refusedPeers.Add(1)
			s.log.Info("turn: peer refused", "peer", ip.String(), "class", ClassSelf, "client", addrString(client))
			return false
		}
		return true
	}
	ok, class := PeerAllowed(ip, s.cfg.AllowPeers)
	if !ok {
		s.totals.refusedPeers.Add(1)
		s.log.Info("turn: peer refused", "peer", ip.String(), "class", class, "client", addrString(client))
	}
	return ok
}

// events are pion's lifecycle callbacks: forged credentials, allocation
// logs, and the permissions relay sockets filter on.
func (s *Server) events() turn.EventHandler {
	return turn.EventHandler{
		OnAuth: func(src, _ net.Addr, _, username, _, method string, verdict bool) {
			if !verdict {
				// Only a known-format username reaches here: the integrity
				// did not match the shared secret's password.
				s.refuseAuth(RefusedForged, username, src, method)
			}
		},
		OnAllocationCreated: func(src, _ net.Addr, protocol, user, _ string, relay net.Addr, _ int) {
			s.log.Info("turn: allocation", "user", user, "client", addrString(src), "transport", protocol, "relay", addrString(relay))
		},
		OnAllocationDeleted: func(src, _ net.Addr, protocol, user, _ string) {
			s.log.Debug("turn: allocation ended", "user", user, "client", addrString(src), "transport", protocol)
		},
		OnPermissionCreated: func(_, _ net.Addr, _, _, _ string, relay net.Addr, peer net.IP) {
			s.relays.permit(relay, peer, true)
		},
		OnPermissionDeleted: func(_, _ net.Addr, _, _, _ string, relay net.Addr, peer net.IP) {
			s.relays.permit(relay, peer, false)
		},
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
