package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/importer"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
)

// demoOwner is the demo organisation's person who owns the imported lists and administers warden.
const demoOwner = "alice@example.com"

func newDemoCmd() *cobra.Command {
	var listen, dataDir, configPath string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run warden with a simulated Identity Center and a sample organisation, nothing to set up",
		Long: `Run warden with everything embedded: an Identity Center simulator seeded with a sample
organisation (five accounts, five permission sets, four groups, a dozen people), warden on SQLite in
a data directory of its own, the organisation imported (alice@example.com owns the lists and is an
administrator), and the sync running. It prints what to try next. Ctrl-C stops everything; running
it again reuses its data, the simulator's included.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := config.Defaults()
			if configPath != "" {
				if err := cfg.LoadFile(configPath); err != nil {
					return err
				}
			}
			cfg.Listen, cfg.DataDir, cfg.Store = listen, dataDir, ""
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			// The simulator, its state kept beside warden's.
			simState := filepath.Join(dataDir, "idcsim.json")
			sim := idcsim.New(idcsim.Options{Seed: 1, ProvisioningDelay: 300 * time.Millisecond})
			if b, err := os.ReadFile(simState); err == nil {
				if err := sim.Restore(b); err != nil {
					return fmt.Errorf("restoring the simulator from %s: %w", simState, err)
				}
			} else if err := sim.Update(idcsim.SeedDemo); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			simURL := "http://" + ln.Addr().String()
			simSrv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
			go simSrv.Serve(ln)
			defer func() {
				simSrv.Close()
				b, err := sim.Snapshot()
				if err == nil {
					err = writePrivate(simState, b) // it holds the SCIM token
				}
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "saving the simulator's state to %s: %v\n", simState, err)
				}
			}()

			// warden, pointed at it the way it is pointed at AWS: the standard variables.
			for k, v := range map[string]string{"AWS_ENDPOINT_URL": simURL, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo",
				"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull} {
				os.Setenv(k, v)
			}
			cfg.IdentityCenter = &idc.Config{Region: "us-east-1", SyncInterval: time.Minute}
			if err := cfg.Validate(); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			return serve(ctx, cfg, cmd.ErrOrStderr(), func(addr string, srv *server.Server) error {
				if err := importDemo(ctx, srv); err != nil {
					return err
				}
				tokenFile := filepath.Join(cfg.DataDir, "admin.token")
				fmt.Fprintf(out, `
warden demo is running at %[1]s (data in %[2]s),
syncing with a simulated Identity Center at %[4]s.

Try, in another terminal:
  export WARDEN_ADDR=%[1]s WARDEN_TOKEN=$(cat %[3]s)
  warden get access_list
  warden get member --list developers
  echo '{"kind": "access_list_member", "version": "v1", "metadata": {}, "spec": {"list": "developers", "member": "kemi@example.com"}}' | warden create -f -
  warden sync status

and see Identity Center change with the AWS CLI:
  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws --region us-east-1 --endpoint-url %[4]s identitystore list-groups --identity-store-id %[5]s

Press Ctrl-C to stop.
`, addr, cfg.DataDir, tokenFile, simURL, sim.IdentityStoreID())
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", config.DefaultListen, "HTTP listen address")
	cmd.Flags().StringVar(&dataDir, "data-dir", demoDataDir(), "where the demo keeps its data")
	cmd.Flags().StringVar(&configPath, "config", "", "a config file for the other settings (notifications, requests); listen, data_dir, store and identity_center are the demo's")
	return cmd
}

// demoDataDir is where the demo keeps its data unless told otherwise.
func demoDataDir() string { return filepath.Join(config.DefaultDataDir(), "demo") }

// importDemo imports the simulated organisation into an empty store and makes its owner an
// administrator. A store that already holds users is left as it is, so that a second run keeps
// whatever was changed in the first.
func importDemo(ctx context.Context, srv *server.Server) error {
	existing, err := srv.Store().List(ctx, resource.KindUser, store.ListOptions{Limit: 1})
	if err != nil || len(existing) > 0 {
		return err
	}
	if srv.Sync() == nil {
		return errors.New("demo: sync is off")
	}
	if _, err := importer.Import(ctx, srv.Store(), srv.Sync().Client(), importer.Scope{}, []string{demoOwner}); err != nil {
		return fmt.Errorf("importing the demo organisation: %w", err)
	}
	owner, err := srv.Store().Get(ctx, resource.KindUser, demoOwner)
	if err != nil {
		return err
	}
	owner.Spec.(*resource.UserSpec).Admin = true
	return srv.Store().Update(ctx, owner)
}
