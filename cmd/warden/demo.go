package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/demo"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
)

func newDemoCmd() *cobra.Command {
	var listen, dataDir string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run warden with a sample organisation, nothing to set up",
		Long: `Run warden on SQLite in a data directory of its own, loaded with a sample organisation
(accounts, permission sets, roles, users and access lists), and print what to try next.
Ctrl-C stops it; running it again reuses its data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := config.Defaults()
			cfg.Listen, cfg.DataDir = listen, dataDir
			if err := cfg.Validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			return serve(ctx, cfg, cmd.ErrOrStderr(), func(addr string, srv *server.Server) error {
				if err := loadDemo(ctx, srv); err != nil {
					return err
				}
				tokenFile := filepath.Join(cfg.DataDir, "admin.token")
				fmt.Fprintf(out, `
warden demo is running at %[1]s (data in %[2]s).

Try, in another terminal:
  export WARDEN_ADDR=%[1]s WARDEN_TOKEN=$(cat %[3]s)
  warden get access_list
  warden get member --list developers
  warden get role AdministratorAccess-on-staging -o yaml

Press Ctrl-C to stop.
`, addr, cfg.DataDir, tokenFile)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", config.DefaultListen, "HTTP listen address")
	cmd.Flags().StringVar(&dataDir, "data-dir", filepath.Join(config.DefaultDataDir(), "demo"), "where the demo keeps its data")
	return cmd
}

// loadDemo loads the sample organisation into an empty store. A store that already holds users is
// left as it is, so that a second run keeps whatever was changed in the first.
func loadDemo(ctx context.Context, srv *server.Server) error {
	existing, err := srv.Store().List(ctx, resource.KindUser, store.ListOptions{Limit: 1})
	if err != nil || len(existing) > 0 {
		return err
	}
	objs, err := demo.Organisation()
	if err != nil {
		return err
	}
	if _, err := srv.Manage().Create(ctx, manage.Actor{User: auth.BootstrapUser, Admin: true}, objs); err != nil {
		return fmt.Errorf("loading the demo organisation: %w", err)
	}
	return nil
}
