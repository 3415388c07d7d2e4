package turn

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		class string
	}{
		{"127.0.0.1", ClassLoopback},
		{"127.255.255.254", ClassLoopback},
		{"::1", ClassLoopback},
		{"::ffff:127.0.0.1", ClassLoopback},
		{"0.0.0.0", ClassUnspecified},
		{"::", ClassUnspecified},
		{"::ffff:0.0.0.0", ClassUnspecified},
		{"0.1.2.3", ClassThisNetwork},
		{"10.0.0.1", ClassPrivate},
		{"10.255.255.255", ClassPrivate},
		{"172.16.0.1", ClassPrivate},
		{"172.31.255.254", ClassPrivate},
		{"192.168.1.1", ClassPrivate},
		{"fc00::1", ClassPrivate},
		{"fd12:3456::1", ClassPrivate},
		{"::ffff:10.1.2.3", ClassPrivate},
		{"::ffff:192.168.0.10", ClassPrivate},
		{"169.254.169.254", ClassLinkLocal},
		{"169.254.0.1", ClassLinkLocal},
		{"::ffff:169.254.169.254", ClassLinkLocal},
		{"fe80::1", ClassLinkLocal},
		{"febf::1", ClassLinkLocal},
		{"224.0.0.1", ClassMulticast},
		{"239.255.255.250", ClassMulticast},
		{"ff02::1", ClassMulticast},
		{"::ffff:224.0.0.251", ClassMulticast},
		{"100.64.0.1", ClassCGNAT},
		{"100.127.255.254", ClassCGNAT},
		{"::ffff:100.64.1.1", ClassCGNAT},
		{"198.18.0.1", ClassBenchmarking},
		{"198.19.255.254", ClassBenchmarking},
		{"240.0.0.1", ClassReserved},
		{"255.255.255.255", ClassReserved},
		{"::ffff:255.255.255.255", ClassReserved},
		{"64:ff9b::808:808", ClassNAT64},
		{"64:ff9b::7f00:1", ClassNAT64},
		{"64:ff9b:1::1", ClassNAT64},
		{"192.0.0.8", ClassProtocol},
		{"192.0.2.1", ClassDocumentation},
		{"2001:db8::1", ClassDocumentation},

		// Public addresses, and neighbours of the refused ranges.
		{"8.8.8.8", ""},
		{"::ffff:8.8.8.8", ""},
		{"2001:4860::8888", ""},
		{"2001:4860:4860::8888", ""},
		{"1.1.1.1", ""},
		{"11.0.0.1", ""},
		{"172.15.255.255", ""},
		{"172.32.0.1", ""},
		{"192.169.0.1", ""},
		{"100.63.255.255", ""},
		{"100.128.0.1", ""},
		{"169.253.255.255", ""},
		{"198.17.255.255", ""},
		{"198.20.0.1", ""},
		{"223.255.255.255", ""},
		{"64:ff9b:2::1", ""},
		{"fec0::1", ""},
	} {
		if got := Classify(mustAddr(tc.addr)); got != tc.class {
			t.Errorf("Classify(%s) = %q, want %q", tc.addr, got, tc.class)
		}
	}
	if got := Classify(netip.Addr{}); got != ClassInvalid {
		t.Errorf("Classify(zero) = %q, want %q", got, ClassInvalid)
	}
}

func TestPeerAllowed(t *testing.T) {
	allow, err := ParsePrefixes([]string{"10.1.0.0/16", "::ffff:192.168.7.0/120", "fd00:1::5"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr  string
		ok    bool
		class string
	}{
		{"10.1.2.3", true, ""},
		{"::ffff:10.1.2.3", true, ""}, // mapped form of an allowed address
		{"10.2.0.1", false, ClassPrivate},
		{"192.168.7.9", true, ""},
		{"192.168.8.9", false, ClassPrivate},
		{"fd00:1::5", true, ""},
		{"fd00:1::6", false, ClassPrivate},
		{"127.0.0.1", false, ClassLoopback},
		{"8.8.8.8", true, ""},
	} {
		ok, class := PeerAllowed(mustAddr(tc.addr), allow)
		if ok != tc.ok || class != tc.class {
			t.Errorf("PeerAllowed(%s) = %v %q, want %v %q", tc.addr, ok, class, tc.ok, tc.class)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes([]string{"10.0.0.0/8", " 192.0.2.7 ", "10.1.2.3/24", "2001:db8::/32", "::ffff:10.0.0.0/104", "fe80::1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "10.1.2.0/24", "2001:db8::/32", "10.0.0.0/8", "fe80::1/128"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d: %v, want %s", i, got[i], want[i])
		}
	}

	for _, bad := range []string{"10.0.0.0/33", "10.0.0/8", "banana", "", "10.0.0.0/", "fe80::1%eth0", "::ffff:10.0.0.0/80", "2001:db8::/129"} {
		_, err := ParsePrefixes([]string{"10.0.0.0/8", bad})
		if !errors.Is(err, ErrBadPrefix) {
			t.Errorf("ParsePrefixes(%q) = %v, want ErrBadPrefix", bad, err)
			continue
		}
		if want := `"` + bad + `"`; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name the entry %s", err, want)
		}
	}
}
