package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/wardenhq/warden/internal/auth/local"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/auth/throttle"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
)

// setupLocalAuth turns on local accounts: the auth key that seals TOTP secrets (auth.key_file,
// made 0600 at the first start), the sign-in throttle and its metrics, and the sign-in pages.
// baseURL is where people reach this server (public_url, else the address it listens on).
func setupLocalAuth(ctx context.Context, cfg config.Config, st store.Store, srv *server.Server, log *slog.Logger, baseURL string) error {
	a := cfg.Auth.WithDefaults()
	path := cfg.AuthKeyFile()
	_, statErr := os.Stat(path)
	box, err := secret.LoadOrCreateBox(path)
	if err != nil {
		return fmt.Errorf("auth.key_file: %w", err)
	}
	if os.IsNotExist(statErr) {
		log.Info("created the auth key that encrypts TOTP secrets: keep a copy somewhere safe; replicas sharing this database need the same file", "file", path)
	} else if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the auth key file can be read by others than its owner: chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
	proxies, err := throttle.ParseTrustedProxies(a.TrustedProxies)
	if err != nil {
		return fmt.Errorf("auth.trusted_proxies: %w", err)
	}
	th := throttle.New(st, a.Lockout)
	for _, c := range th.Metrics() {
		if err := srv.Registry().Register(c); err != nil {
			return err
		}
	}
	accounts := local.New(st, box, a, local.WithLogger(log))
	go accounts.SweepEvery(ctx, time.Hour) // expired invitations and abandoned sign-ins
	srv.SetLocalAuth(&server.LocalAuth{
		Accounts:       accounts,
		Throttle:       th,
		TrustedProxies: proxies,
		BaseURL:        baseURL,
		Secure:         srv.Sessions().Config().Secure, // the session cookie's rule: TLS, or an https public_url
	})
	return nil
}

// reachable is a listening address as a browser on this machine reaches it: an unspecified host
// (":8080", "0.0.0.0:8080") becomes localhost.
func reachable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
