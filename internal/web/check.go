package web

import (
	"encoding/json"
	"net"
	"net/http"

	"github.com/parley/parley/protocol"
)

// CheckConfig is what a network check (`parley check`, the pre-join page's
// "Test my connection") needs to know of the node: GET /check/config, see
// docs/protocol.md, "Network check".
type CheckConfig struct {
	// ICEServers are the TURN servers with a short-lived credential for
	// this check only; empty when the node offers none.
	ICEServers []protocol.ICEServer `json:"iceServers"`
	// MediaUDP says whether the bridge takes media on UDP, at MediaPort
	// (0 when this node runs no bridge).
	MediaUDP  bool `json:"mediaUDP"`
	MediaPort int  `json:"mediaPort"`
	// ICETCP says whether the bridge takes media over TCP on TLSPort, the
	// one TCP port (0 when the node has none).
	ICETCP  bool `json:"iceTCP"`
	TLSPort int  `json:"tlsPort"`
}

// checkConfigHandler serves GET /check/config from f, given the host the
// client asked for (without port); 404 without f.
func checkConfigHandler(f func(host string) CheckConfig) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f == nil {
			http.NotFound(w, r)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		cfg := f(host)
		if cfg.ICEServers == nil {
			cfg.ICEServers = []protocol.ICEServer{}
		}
		w.Header().Set("Content-Type", "application/json")
		// Credentials inside: never cached.
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(cfg)
	})
}
