package node

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/test/testlog"
)

func testConfig(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.UDPPort = 0
	cfg.PublicIP = []string{"127.0.0.1"}
	cfg.DataDir = t.TempDir()
	return cfg
}

// A node that cannot start says why, and what it started is stopped: the
// media port taken, a --public-ip that is not this host's.
func TestStartFails(t *testing.T) {
	taken, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.LocalAddr().(*net.UDPAddr).Port
	for _, c := range []struct {
		name   string
		mutate func(*config.Config)
		want   string
	}{
		{"media port taken", func(c *config.Config) { c.UDPPort = port }, "--udp-port " + strconv.Itoa(port)},
		{"public IP of another host", func(c *config.Config) { c.PublicIP = []string{"203.0.113.7/10.9.9.9"} }, "10.9.9.9 is not an address of this host"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			c.mutate(&cfg)
			n, err := Start(context.Background(), cfg, testlog.New(t))
			if err == nil {
				n.Close()
				t.Fatal("the node started")
			}
			if n != nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Start: %v, %v; want no node and an error saying %q", n, err, c.want)
			}
		})
	}
	// What the failed starts held is free again: a node starts.
	n, err := Start(context.Background(), testConfig(t), testlog.New(t))
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
}
