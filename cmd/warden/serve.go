package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth/passkey"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/notify"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

func newServeCmd() *cobra.Command {
	var configPath string
	flags := config.Config{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the warden server",
		Long: `Run the warden server: the HTTP API, health probes and metrics.

Settings come from, weakest first: defaults, the config file (--config or WARDEN_CONFIG),
WARDEN_* environment variables (WARDEN_LISTEN, WARDEN_DATA_DIR, WARDEN_STORE, WARDEN_LOG_LEVEL),
then flags. With no store set, warden keeps its state in SQLite under the data directory.
On first start it writes an admin API token to <data-dir>/admin.token (mode 0600).
The data directory is made 0700 and its files 0600 (or warned about, when another user owns them).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := config.Defaults()
			if configPath == "" {
				configPath = os.Getenv("WARDEN_CONFIG")
			}
			if configPath != "" {
				if err := cfg.LoadFile(configPath); err != nil {
					return err
				}
			}
			cfg.LoadEnv(os.Getenv)
			f := cmd.Flags()
			if f.Changed("listen") {
				cfg.Listen = flags.Listen
			}
			if f.Changed("data-dir") {
				cfg.DataDir = flags.DataDir
			}
			if f.Changed("store") {
				cfg.Store = flags.Store
			}
			if f.Changed("log-level") {
				cfg.LogLevel = flags.LogLevel
			}
			if f.Changed("tls-cert") {
				cfg.TLS.CertFile = flags.TLS.CertFile
			}
			if f.Changed("tls-key") {
				cfg.TLS.KeyFile = flags.TLS.KeyFile
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, cmd.ErrOrStderr(), nil)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "YAML config file (env WARDEN_CONFIG)")
	cmd.Flags().StringVar(&flags.Listen, "listen", config.DefaultListen, "HTTP listen address (env WARDEN_LISTEN)")
	cmd.Flags().StringVar(&flags.DataDir, "data-dir", config.DefaultDataDir(), "directory for the SQLite database and admin.token (env WARDEN_DATA_DIR)")
	cmd.Flags().StringVar(&flags.Store, "store", "", "postgres://... to share state between replicas; empty for SQLite (env WARDEN_STORE)")
	cmd.Flags().StringVar(&flags.LogLevel, "log-level", "info", "debug, info, warn or error (env WARDEN_LOG_LEVEL)")
	cmd.Flags().StringVar(&flags.TLS.CertFile, "tls-cert", "", "serve HTTPS with this PEM certificate (chain) file (config tls.cert_file); needs --tls-key")
	cmd.Flags().StringVar(&flags.TLS.KeyFile, "tls-key", "", "the PEM private key of --tls-cert (config tls.key_file)")
	return cmd
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// openedStore is the store serve runs on, and how its leader is chosen.
type openedStore struct {
	store.Store
	elector store.Elector
	where   string
	release func() // gives the data directory up (SQLite)
}

// openStore opens the configured store. SQLite: this process first takes the data directory's lock
// (a second server on it fails at once, naming the first), so it is the only possible leader and
// leases left in the database by a predecessor that died are void. PostgreSQL: replicas elect a
// leader through a session-level advisory lock.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*openedStore, error) {
	if cfg.Store != "" {
		s, err := postgres.Open(ctx, cfg.Store)
		if err != nil {
			return nil, err
		}
		return &openedStore{Store: s, elector: s, where: "postgres", release: func() {}}, nil
	}
	lock, err := sqlite.LockDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.DataDir, "warden.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		lock.Release()
		return nil, err
	}
	o := &openedStore{Store: s, where: "sqlite " + path, release: func() { lock.Release() }}
	if !lock.Locked() {
		log.Warn("this platform cannot lock the data directory: make sure no other warden uses it; after a crash, the sync and notifications wait for the dead process's leases to expire",
			"data_dir", cfg.DataDir)
		o.elector = store.LeaseElector{Leaser: s, TTL: leaseTTL(cfg)}
		return o, nil
	}
	if err := s.DropLeases(ctx); err != nil {
		s.Close()
		lock.Release()
		return nil, fmt.Errorf("sqlite %s: forgetting a dead predecessor's leases: %w", path, err)
	}
	o.elector = store.Sole{}
	return o, nil
}

func leaseTTL(cfg config.Config) time.Duration {
	if cfg.IdentityCenter != nil {
		return cfg.IdentityCenter.WithDefaults().LeaseTTL
	}
	return idc.Config{}.WithDefaults().LeaseTTL
}

// serve runs the server until ctx ends. ready, if set, is called once it listens; until it has
// returned, /readyz answers 503 (the demo imports its organisation there).
func serve(ctx context.Context, cfg config.Config, stderr io.Writer, ready func(addr string, srv *server.Server) error) error {
	log := newLogger(stderr, cfg.LogLevel)
	if err := secureDataDir(cfg.DataDir, log); err != nil {
		return err
	}
	opened, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer opened.release()
	defer opened.Close()
	where := opened.where
	st, err := keyAudit(ctx, cfg, opened.Store, log)
	if err != nil {
		return err
	}
	srv := server.New(st, log)
	markReady := func() {}
	if ready != nil {
		markReady = srv.Hold()
	}
	srv.SetPendingTTL(cfg.Requests.PendingTTL)
	srv.SetMaxStartAhead(cfg.Requests.MaxStartAhead)
	srv.SetTokenMaxTTL(cfg.Tokens.MaxTTL)
	if err := startSessions(ctx, cfg, st, srv, log); err != nil {
		return err
	}
	tlsConfig, err := serverTLS(cfg)
	if err != nil {
		return err
	}
	if pk, err := passkey.New(st, cfg.BaseURL()); err != nil {
		log.Warn("passkeys are off", "reason", err.Error())
	} else {
		srv.SetPasskeys(pk)
		log.Info("passkeys are on", "rp_id", pk.RPID(), "origin", pk.Origin())
	}
	srv.SetCLILogin(cfg.Auth, cfg.PublicURL) // warden login: auth.cli_token_ttl, links to /device

	tokenPath := filepath.Join(cfg.DataDir, "admin.token")
	created, err := srv.Tokens().EnsureAdminToken(ctx, tokenPath)
	if err != nil {
		return err
	}
	if created {
		log.Info("created an admin API token", "file", tokenPath)
	} else {
		log.Info("using the admin API token", "file", tokenPath)
	}

	var engine *reconcile.Engine
	if cfg.IdentityCenter != nil {
		client, err := idc.New(ctx, *cfg.IdentityCenter)
		if err != nil {
			return err
		}
		engine = reconcile.New(st, client, *cfg.IdentityCenter, log)
		if err := engine.RegisterMetrics(srv.Registry()); err != nil {
			return err
		}
		if cfg.IdentityCenter.Directory == idc.DirectorySCIM {
			if err := setupSCIMDirectory(cfg, st, srv, client, engine, log); err != nil {
				return err
			}
		}
		srv.SetSync(engine)
		srv.SetAWSRegion(cfg.IdentityCenter.Region)
		log.Info("Identity Center sync is on", "instance", client.InstanceARN, "identity_store", client.IdentityStoreID, "region", cfg.IdentityCenter.Region)
	} else {
		log.Warn("Identity Center sync is off: the config file has no identity_center section")
	}

	var notifier *notify.Notifier
	if cfg.Notifications != nil {
		notifier, err = notify.New(st, *cfg.Notifications, notify.WithLogger(log), notify.WithPendingTTL(cfg.Requests.PendingTTL),
			notify.WithBaseURL(cfg.UIBaseURL()))
		if err != nil {
			return err
		}
		if err := notifier.RegisterMetrics(srv.Registry()); err != nil {
			return err
		}
		if err := notifier.Init(ctx); err != nil { // before listening: nothing done through the server is missed
			return err
		}
		log.Info("notifications are on", "webhooks", len(cfg.Notifications.Webhooks))
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	baseURL := cfg.PublicURL
	if baseURL == "" {
		scheme := "http://"
		if tlsConfig != nil {
			scheme = "https://"
		}
		baseURL = scheme + reachable(ln.Addr())
	}
	if err := setupLocalAuth(ctx, cfg, st, srv, log, baseURL); err != nil {
		ln.Close()
		return err
	}
	if len(cfg.Auth.OIDC) > 0 {
		// In the background: a provider that cannot be reached blocks neither the start nor any
		// other sign-in; each connector is retried until its provider answers (docs/oidc.md).
		srv.StartOIDC(ctx, server.OIDCSetup{Connectors: cfg.Auth.OIDC, BaseURL: baseURL})
		log.Info("sign-in through OIDC providers is configured", "connectors", len(cfg.Auth.OIDC), "callback", server.OIDCRedirectURL(baseURL, "<name>"))
	}
	if len(cfg.SCIM.Connectors) > 0 {
		srv.SetSCIMConnectors(cfg.SCIM.Connectors)
		log.Info("the SCIM service provider is on", "connectors", len(cfg.SCIM.Connectors), "base_url", baseURL+"/scim/v2/")
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, TLSConfig: tlsConfig}
	errc := make(chan error, 1)
	addr := "http://" + ln.Addr().String()
	if tlsConfig != nil {
		addr = "https://" + ln.Addr().String()
		go func() { errc <- httpSrv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- httpSrv.Serve(ln) }()
	}
	warnPlainHTTP(cfg, ln.Addr(), log)
	log.Info("warden is serving", "addr", addr, "store", where)

	go compactLoop(ctx, st, log)
	holder := leaseHolder()
	engineDone := make(chan struct{})
	if engine != nil {
		go func() { engine.RunLeader(ctx, opened.elector, holder); close(engineDone) }()
	} else {
		close(engineDone)
	}
	expiryDone := make(chan struct{})
	go func() { srv.KeepRequests(ctx, 15*time.Second); close(expiryDone) }()
	notifyDone := make(chan struct{})
	if notifier != nil {
		go func() { notifier.RunLeader(ctx, holder); close(notifyDone) }()
	} else {
		close(notifyDone)
	}

	if ready != nil {
		if err := ready(addr, srv); err != nil {
			httpSrv.Close()
			return err
		}
		markReady()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	for _, done := range []chan struct{}{engineDone, notifyDone, expiryDone} {
		select { // let a sync in progress stop, and the notifier save its progress, before the store closes
		case <-done:
		case <-sctx.Done():
		}
	}
	log.Info("stopped")
	return nil
}

// keyAudit loads the audit key (making it at the first start), gives it to the store, and seals a
// log not yet keyed (audit.Init). A replica whose key is not the log's refuses to start.
func keyAudit(ctx context.Context, cfg config.Config, st store.Store, log *slog.Logger) (store.Store, error) {
	path := cfg.AuditKeyFile()
	key, created, err := audit.LoadKey(path, true)
	if err != nil {
		return nil, fmt.Errorf("audit.key_file: %w", err)
	}
	if created {
		log.Info("created the audit key: keep a copy somewhere safe; replicas sharing this database need the same file", "file", path)
	} else if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the audit key file can be read by others than its owner: chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
	keyed := audit.Keyed(st, key)
	if err := audit.Init(ctx, keyed); err != nil {
		return nil, fmt.Errorf("audit.key_file %s: %w", path, err)
	}
	return keyed, nil
}

// changeRetention is how many revisions of the change feed are kept for watches to resume from.
const changeRetention = 1_000_000

func compactLoop(ctx context.Context, st store.Store, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rev, err := st.Revision(ctx)
		if err == nil && rev > changeRetention {
			err = st.Compact(ctx, rev-changeRetention)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("compacting the change feed failed", "err", err)
		}
	}
}

// leaseHolder names this process among replicas: host, process id and a random suffix.
func leaseHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), b)
}
