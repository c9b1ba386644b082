package throttle

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds how many X-Forwarded-For entries are looked at, from the right.
const maxForwardedHops = 64

// ParseTrustedProxies reads auth.trusted_proxies: IP addresses (each its own /32 or /128) and CIDR
// prefixes.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("auth.trusted_proxies[%d]: %q is not an IP address or CIDR prefix", i, s)
		}
		a = a.Unmap().WithZone("")
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// SourceAddress is the address a request comes from, for counting failed sign-ins: the
// connection's peer, unless that peer is a trusted proxy; then X-Forwarded-For is read from the
// right (each proxy appends the address it received the request from), skipping trusted proxies,
// and the first address that is not one is the source. Entries left of it are whatever the client
// sent, and are never believed. A malformed entry ends the walk at the last address believed. With
// no trusted proxies (the default), X-Forwarded-For is ignored.
func SourceAddress(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseHost(r.RemoteAddr)
	if !ok {
		return NormaliseSource(r.RemoteAddr)
	}
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	src := peer
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i, n := len(hops)-1, 0; i >= 0 && n < maxForwardedHops; i, n = i-1, n+1 {
		a, ok := parseHost(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		src = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return src.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHost reads "addr", "addr:port", "[v6]" or "[v6]:port".
func parseHost(s string) (netip.Addr, bool) {
	if len(s) > 128 {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(h); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}
