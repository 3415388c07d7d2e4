package node

import (
	"net"
	"net/http"

	"github.com/parley/parley/internal/admin"
)

// adminAPI is the admin HTTP API for web.Options.API. Every node serves it
// (it asks the rooms' owners over the bus); it answers 404 while
// --admin-key is unset, and issues join tokens only with --jwt-secret.
func (n *Node) adminAPI() http.Handler {
	cfg := n.cfg
	return admin.Handler(admin.Config{
		Key: cfg.AdminKey, Bus: n.bus, Log: n.log,
		TokenSecret: cfg.JWTSecret, TokenIssuer: cfg.JWTIssuer, TokenAudience: cfg.JWTAudience,
		PublicURL: n.publicURL,
	})
}

// publicURL is the base of the join links the admin API hands out:
// https://<public-host> (with the TLS port unless it is 443) when
// --public-host is set, else the scheme and host the API was called by.
func (n *Node) publicURL(r *http.Request) string {
	if n.cfg.PublicHost == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return scheme + "://" + r.Host
	}
	host := n.cfg.PublicHost
	if _, port, err := net.SplitHostPort(n.cfg.TLSListen); err == nil && port != "443" && port != "0" {
		host = net.JoinHostPort(host, port)
	}
	return "https://" + host
}
