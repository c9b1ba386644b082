package throttle

import (
	"net/http/httptest"
	"testing"
)

func TestSourceAddress(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::ffff:172.16.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		trusted      bool
		want         string
	}{
		{"no proxy configured: XFF ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, false, "203.0.113.5"},
		{"untrusted peer: XFF ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, true, "203.0.113.5"},
		{"trusted proxy: the client it saw", "10.1.2.3:4000", []string{"198.51.100.1"}, true, "198.51.100.1"},
		{"spoofed entries left of the proxy's are not believed", "10.1.2.3:4000", []string{"1.2.3.4, 5.6.7.8, 198.51.100.1"}, true, "198.51.100.1"},
		{"a spoofed trusted address on the left is not reached", "10.1.2.3:4000", []string{"10.9.9.9, 198.51.100.1"}, true, "198.51.100.1"},
		{"two trusted proxies", "10.1.2.3:4000", []string{"198.51.100.1, 192.0.2.1"}, true, "198.51.100.1"},
		{"several header lines read as one list", "10.1.2.3:4000", []string{"6.6.6.6", "198.51.100.1, 10.0.0.2"}, true, "198.51.100.1"},
		{"IPv6 peer and client", "[2001:db8::5]:443", []string{"2001:db9::7"}, true, "2001:db9::7"},
		{"IPv4-mapped trusted peer", "[::ffff:172.16.0.1]:80", []string{"198.51.100.9"}, true, "198.51.100.9"},
		{"malformed right-most entry: the proxy", "10.1.2.3:4000", []string{"198.51.100.1, garbage"}, true, "10.1.2.3"},
		{"no XFF from the proxy: the proxy", "10.1.2.3:4000", nil, true, "10.1.2.3"},
		{"only trusted entries: the left-most", "10.1.2.3:4000", []string{"10.0.0.7, 10.0.0.8"}, true, "10.0.0.7"},
		{"entry with a port", "10.1.2.3:4000", []string{"198.51.100.1:5555"}, true, "198.51.100.1"},
		{"bracketed IPv6 entry", "10.1.2.3:4000", []string{"[2001:db9::7]:5555"}, true, "2001:db9::7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			tr := trusted
			if !tc.trusted {
				tr = nil
			}
			if got := SourceAddress(r, tr); got != tc.want {
				t.Errorf("SourceAddress = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies([]string{"10.1.2.3/8", "192.0.2.1", "2001:db8::1", "::ffff:10.0.0.0/104"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.1/32", "2001:db8::1/128", "10.0.0.0/8"}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/8", "proxy.local"}); err == nil || err.Error() != `auth.trusted_proxies[1]: "proxy.local" is not an IP address or CIDR prefix` {
		t.Errorf("err = %v", err)
	}
}
