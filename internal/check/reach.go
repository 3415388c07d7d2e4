package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/parley/parley/internal/web"
	"github.com/parley/parley/protocol"
)

func (t *target) checkDNS(ctx context.Context) Item {
	it := Item{ID: ItemDNS, Name: itemNames[ItemDNS]}
	if ip := net.ParseIP(t.host); ip != nil {
		it.Status, it.Detail = Pass, t.host+" is an IP address: nothing to look up"
		return it
	}
	ctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	start := time.Now()
	addrs, err := net.DefaultResolver.LookupHost(ctx, t.host)
	if err != nil || len(addrs) == 0 {
		it.Status, it.Detail = Fail, fmt.Sprintf("%s does not resolve: %v", t.host, err)
		it.Advice = "This machine cannot find the server's address. Check the name, then ask the network team whether " +
			"this branch's DNS resolves " + t.host + " (split DNS and VPN-only zones are the usual cause)."
		return it
	}
	it.Status = Pass
	it.Detail = fmt.Sprintf("%s → %s (%d ms)", t.host, strings.Join(addrs, ", "), time.Since(start).Milliseconds())
	return it
}

func (t *target) checkTCP(ctx context.Context) Item {
	it := Item{ID: ItemTCP, Name: fmt.Sprintf("TCP %d", t.port)}
	d := net.Dialer{Timeout: t.opts.Timeout}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", t.addr())
	if err != nil {
		it.Status, it.Detail = Fail, fmt.Sprintf("cannot connect to %s: %v", t.addr(), err)
		it.Advice = fmt.Sprintf("Nothing works without this. Ask the network team to allow outbound TCP %d to %s "+
			"(and, if web traffic must go through a proxy, to allow CONNECT to it).", t.port, t.host)
		return it
	}
	_ = c.Close()
	took := time.Since(start)
	it.Status, it.Value, it.Unit = Pass, value(float64(took.Milliseconds())), "ms"
	it.Detail = fmt.Sprintf("connected to %s in %d ms", c.RemoteAddr(), took.Milliseconds())
	return it
}

// certWarnBefore is how early an expiring certificate is reported.
const certWarnBefore = 14 * 24 * time.Hour

func (t *target) checkTLS(ctx context.Context) Item {
	it := Item{ID: ItemTLS, Name: itemNames[ItemTLS]}
	if t.base.Scheme == "http" {
		it.Status, it.Detail = Warn, "plain HTTP, no TLS"
		it.Advice = "Browsers use the camera and microphone only on https:// pages (or localhost), and TURN over TLS " +
			"needs TLS. Serve Parley with --tls-listen :443 and a certificate, and check https:// instead."
		return it
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: t.opts.Timeout}, Config: t.tls}
	c, err := d.DialContext(ctx, "tcp", t.addr())
	if err != nil {
		it.Status, it.Detail = Fail, "TLS handshake failed: "+err.Error()
		var unknown x509.UnknownAuthorityError
		var hostErr x509.HostnameError
		var invalid x509.CertificateInvalidError
		switch {
		case errors.As(err, &unknown):
			it.Advice = "The certificate is not from an authority this machine trusts: browsers will warn, and TURN over " +
				"TLS will fail. If the server uses a self-signed certificate, give it a real one (--tls-cert or " +
				"--acme-domains). If other sites show the same issuer, a proxy here is inspecting TLS: ask the network " +
				"team to exempt " + t.host + " from TLS inspection. The rest of this check goes on without verifying."
		case errors.As(err, &hostErr):
			it.Advice = "The certificate is for another name than " + t.host + ": browsers will refuse it. Get a " +
				"certificate for this name, or open Parley by the name the certificate is for."
		case errors.As(err, &invalid):
			it.Advice = "The certificate is not valid now (expired or not yet valid): browsers will refuse it. " +
				"Renew it (ACME renews by itself with --acme-domains), and check this machine's clock."
		default:
			it.Advice = "Something on the way answers port " + fmt.Sprint(t.port) + " without proper TLS: a proxy or " +
				"firewall that interferes with TLS. Ask the network team to let TLS to " + t.host + " through untouched."
			return it
		}
		// A certificate problem: go on without verifying, the paths are
		// still worth knowing.
		t.tls.InsecureSkipVerify = true
		return it
	}
	defer c.Close()
	leaf := c.(*tls.Conn).ConnectionState().PeerCertificates[0]
	left := time.Until(leaf.NotAfter)
	it.Status = Pass
	it.Detail = fmt.Sprintf("valid for %s, issued by %s, expires %s (%d days)",
		t.host, issuer(leaf), leaf.NotAfter.Format("2006-01-02"), int(left.Hours()/24))
	if left < certWarnBefore {
		it.Status = Warn
		it.Advice = "The certificate expires soon. Renew it before then (ACME renews by itself with --acme-domains)."
	}
	return it
}

func issuer(c *x509.Certificate) string {
	if len(c.Issuer.Organization) > 0 {
		return c.Issuer.Organization[0]
	}
	if c.Issuer.CommonName != "" {
		return c.Issuer.CommonName
	}
	return "an unnamed issuer"
}

// signalingPings is how many pings measure the signaling round trip.
const signalingPings = 5

func (t *target) wsURL() string {
	u := *t.base
	u.Scheme = map[string]string{"https": "wss", "http": "ws"}[u.Scheme]
	u.Path = "/ws"
	return u.String()
}

func (t *target) checkSignaling(ctx context.Context) Item {
	it := Item{ID: ItemSignaling, Name: itemNames[ItemSignaling]}
	ctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	fail := func(detail string) Item {
		it.Status, it.Detail = Fail, detail
		it.Advice = "Participants cannot join from here. A proxy or firewall is probably blocking WebSocket upgrades " +
			"or cutting long-lived connections: ask the network team to allow WebSocket (HTTP Upgrade) to " +
			t.host + " and to keep such connections open for the length of a meeting."
		return it
	}
	ws, _, err := websocket.Dial(ctx, t.wsURL(), &websocket.DialOptions{HTTPClient: t.http})
	if err != nil {
		return fail("cannot open the WebSocket at " + t.wsURL() + ": " + err.Error())
	}
	defer ws.Close(websocket.StatusNormalClosure, "")
	var rtts []time.Duration
	for seq := int64(1); seq <= signalingPings; seq++ {
		data, _ := json.Marshal(protocol.Ping{Type: protocol.TypePing, Seq: seq})
		sent := time.Now()
		if err := ws.Write(ctx, websocket.MessageText, data); err != nil {
			return fail("the WebSocket opened but writing to it failed: " + err.Error())
		}
		for {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				return fail("the WebSocket opened but no answer came back: " + err.Error())
			}
			var pong protocol.Pong
			if json.Unmarshal(msg, &pong) == nil && pong.Type == protocol.TypePong && pong.Seq == seq {
				rtts = append(rtts, time.Since(sent))
				break
			}
		}
	}
	slices.Sort(rtts)
	median := rtts[len(rtts)/2]
	it.Status, it.Value, it.Unit = Pass, value(ms(median)), "ms"
	it.Detail = fmt.Sprintf("connected; %d pings answered, median round trip %.0f ms", len(rtts), ms(median))
	if median > 500*time.Millisecond {
		it.Status = Warn
		it.Advice = "Signaling is slow: joining and changes in the meeting will lag. A proxy on the way may be buffering."
	}
	return it
}

// fetchConfig reads GET /check/config: the TURN servers with a credential
// for this check, and the media ports. An older server has none.
func (t *target) fetchConfig(ctx context.Context) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base.String()+"/check/config", nil)
	if err != nil {
		return
	}
	resp, err := t.http.Do(req)
	if err != nil {
		t.log.Debug("check: no check config", "err", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.log.Debug("check: no check config", "status", resp.Status)
		return
	}
	var cc web.CheckConfig
	if err := json.NewDecoder(resp.Body).Decode(&cc); err != nil {
		t.log.Debug("check: bad check config", "err", err)
		return
	}
	t.config = &cc
	t.servers = turnServers(cc.ICEServers)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
