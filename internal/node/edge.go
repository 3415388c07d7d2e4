package node

import (
	"net"
	"net/http"

	"github.com/parley/parley/protocol"
)

// prepareEdge sets up the node's network edge before the roles start: the
// one TLS port and the embedded TURN server, as configured.
func (n *Node) prepareEdge() error { return nil }

// iceTCPListener is the ICE-TCP share of the edge, for the bridge (nil
// without one).
func (n *Node) iceTCPListener() net.Listener { return nil }

// serveEdge starts serving HTTP (the node's handler) on the edge's TLS port.
func (n *Node) serveEdge(*http.Server) error { return nil }

// closeEdge stops the edge.
func (n *Node) closeEdge() {}

// iceServers are the STUN/TURN servers, with credentials, handed to a
// participant at join; host is the host name the client asked for.
func (n *Node) iceServers(participant, host string) []protocol.ICEServer { return nil }
