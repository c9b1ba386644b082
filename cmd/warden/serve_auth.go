package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/throttle"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
)

// secureCookies says whether browsers reach warden over HTTPS: warden serves TLS itself, or
// public_url is https (a proxy in front ends TLS). Session cookies are then Secure, __Host-.
func secureCookies(cfg config.Config) bool {
	return cfg.TLS.Enabled() || strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://")
}

// startSessions builds the browser sessions from auth.session_idle, auth.session_absolute and
// TLS, runs their cache until ctx ends, and sets them and the step-up rule (auth.step_up,
// auth.step_up_exempt_tokens) on srv.
func startSessions(ctx context.Context, cfg config.Config, st store.Store, srv *server.Server, log *slog.Logger) error {
	a := cfg.Auth.WithDefaults()
	trusted, err := throttle.ParseTrustedProxies(a.TrustedProxies)
	if err != nil {
		return err
	}
	ss := auth.NewSessions(st, auth.SessionConfig{Idle: a.SessionIdle, Absolute: a.SessionAbsolute, Secure: secureCookies(cfg)},
		auth.WithSessionAddress(func(r *http.Request) string { return throttle.SourceAddress(r, trusted) }))
	go ss.Run(ctx)
	srv.SetSessions(ss)
	srv.SetStepUp(a.StepUp, a.StepUpExemptTokens)
	log.Info("browser sessions", "cookie", ss.CookieName(), "idle", auth.FormatDuration(a.SessionIdle),
		"absolute", auth.FormatDuration(a.SessionAbsolute), "step_up", auth.FormatDuration(a.StepUp),
		"step_up_exempt_tokens", a.StepUpExemptTokens)
	return nil
}

// serverTLS loads tls.cert_file and tls.key_file (nil when TLS is off), so that a bad pair stops
// the start with a clear error rather than the first handshake.
func serverTLS(cfg config.Config) (*tls.Config, error) {
	if !cfg.TLS.Enabled() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: loading the certificate %s and key %s: %w", cfg.TLS.CertFile, cfg.TLS.KeyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// loopbackOnly says whether addr (as listened on) is reachable from this machine only.
func loopbackOnly(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// warnPlainHTTP warns when warden listens beyond this machine without TLS: passwords, session
// cookies and tokens would cross the network in clear, unless a proxy in front ends TLS.
func warnPlainHTTP(cfg config.Config, addr net.Addr, log *slog.Logger) {
	if cfg.TLS.Enabled() || loopbackOnly(addr) {
		return
	}
	log.Warn("listening on a non-loopback address without TLS: passwords, session cookies and API tokens cross the network in clear; serve HTTPS (--tls-cert and --tls-key, or tls.cert_file and tls.key_file) or put a TLS proxy in front and set public_url to its https address",
		"addr", addr.String())
}
