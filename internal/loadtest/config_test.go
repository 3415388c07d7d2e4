package loadtest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"[::1]", true},
		{"localhost", true},
		{"LocalHost", true},
		{"localhost.", true},
		{"::ffff:127.0.0.1", true},
		{"10.0.0.1", false},
		{"192.168.1.10", false},
		{"0.0.0.0", false},
		{"::", false},
		{"example.com", false},
		{"localhost.example.com", false},
		{"foo.localhost", false},
		{"128.0.0.1", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.host); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestOptionsRemote(t *testing.T) {
	for _, u := range []string{"http://example.com:8080", "https://10.1.2.3", "ws://[2001:db8::1]:8080/ws"} {
		o := DefaultOptions()
		o.URL = u
		_, err := o.Config()
		if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "--allow-remote") || !strings.Contains(err.Error(), "--url") {
			t.Errorf("%s: err %v; want ErrRemote naming --url and --allow-remote", u, err)
		}
		o.AllowRemote = true
		if _, err := o.Config(); err != nil {
			t.Errorf("%s with --allow-remote: %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:8080/", "http://[::1]:8080", "ws://127.0.0.2/ws"} {
		o := DefaultOptions()
		o.URL = u
		if _, err := o.Config(); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	// The metrics URL is checked too.
	o := DefaultOptions()
	remote := "http://example.com/metrics"
	o.MetricsURL = &remote
	if _, err := o.Config(); !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "--metrics-url") {
		t.Errorf("remote --metrics-url: %v", err)
	}
}

func TestOptionsConfig(t *testing.T) {
	c, err := DefaultOptions().Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsURL != "http://127.0.0.1:8080/metrics" || c.Height != 720 || !c.Simulcast || c.Layout != Speaker || c.Participants() != 11 {
		t.Errorf("defaults: %+v", c)
	}
	o := DefaultOptions()
	o.URL = "http://127.0.0.1:9000/"
	none := ""
	o.MetricsURL = &none
	o.Resolution, o.Simulcast, o.Layout = "360p", "off", "grid"
	c, err = o.Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "http://127.0.0.1:9000" || c.MetricsURL != "" || c.Height != 360 || c.Simulcast || c.Layout != Grid {
		t.Errorf("custom: %+v", c)
	}
}

func TestOptionsErrorsNameTheFlag(t *testing.T) {
	tests := []struct {
		flag string
		set  func(o *Options)
	}{
		{"--url", func(o *Options) { o.URL = "127.0.0.1:8080" }},
		{"--url", func(o *Options) { o.URL = "ftp://127.0.0.1" }},
		{"--metrics-url", func(o *Options) { s := "::bad"; o.MetricsURL = &s }},
		{"--rooms", func(o *Options) { o.Rooms = 0 }},
		{"--video-publishers", func(o *Options) { o.VideoPublishers = -1 }},
		{"--audio-publishers", func(o *Options) { o.AudioPublishers = -2 }},
		{"--subscribers", func(o *Options) { o.Subscribers = -1 }},
		{"--video-publishers", func(o *Options) { o.VideoPublishers, o.AudioPublishers = 0, 0 }},
		{"--rooms", func(o *Options) { o.Rooms = 1000; o.Subscribers = 100 }},
		{"--join-rate", func(o *Options) { o.JoinRate = 0 }},
		{"--join-rate", func(o *Options) { o.JoinRate = -5 }},
		{"--join-rate", func(o *Options) { o.JoinRate = 1e6 }},
		{"--warmup", func(o *Options) { o.Warmup = -time.Second }},
		{"--duration", func(o *Options) { o.Duration = 0 }},
		{"--duration", func(o *Options) { o.Duration = 500 * time.Millisecond }},
		{"--resolution", func(o *Options) { o.Resolution = "1080p" }},
		{"--resolution", func(o *Options) { o.Resolution = "720" }},
		{"--simulcast", func(o *Options) { o.Simulcast = "yes" }},
		{"--layout", func(o *Options) { o.Layout = "gallery" }},
		{"--room-prefix", func(o *Options) { o.RoomPrefix = "" }},
		{"--room-prefix", func(o *Options) { o.RoomPrefix = "-load" }},
		{"--room-prefix", func(o *Options) { o.RoomPrefix = "load test" }},
		{"--room-prefix", func(o *Options) { o.RoomPrefix = strings.Repeat("a", 51) }},
	}
	for _, tt := range tests {
		o := DefaultOptions()
		tt.set(&o)
		_, err := o.Config()
		if err == nil {
			t.Errorf("%s: no error for %+v", tt.flag, o)
			continue
		}
		if !strings.Contains(err.Error(), tt.flag) {
			t.Errorf("error %q does not name %s", err, tt.flag)
		}
	}
}
