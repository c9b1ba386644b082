package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/integration"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
)

// setupSCIMDirectory makes the sync write users, groups and memberships through Identity Center's
// SCIM endpoint (identity_center.directory: scim), with the tokens set through warden (sealed with
// the auth key) first and those of the environment and identity_center.scim.token_file after; it
// reports the tokens' expiry in the sync's status and as a metric.
func setupSCIMDirectory(cfg config.Config, st store.Store, srv *server.Server, client *idc.Client, engine *reconcile.Engine, log *slog.Logger) error {
	box, err := secret.LoadOrCreateBox(cfg.AuthKeyFile())
	if err != nil {
		return fmt.Errorf("auth.key_file (it seals the SCIM token): %w", err)
	}
	static, err := idc.ConfiguredTokens(cfg.IdentityCenter.SCIM)
	if err != nil {
		return err
	}
	tokens := integration.NewSCIMTokens(st, box, static, nil)
	if err := client.UseSCIM(cfg.IdentityCenter.SCIM, tokens, nil); err != nil {
		return err
	}
	srv.SetSCIM(box, len(static) > 0)
	engine.SetWarnings(func() []string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		now := time.Now()
		infos, err := integration.SCIMTokenInfos(ctx, st, now)
		if err != nil {
			return []string{"reading the SCIM tokens: " + err.Error()}
		}
		return server.SCIMTokenWarnings(idc.DirectorySCIM, infos, len(static) > 0, now)
	})
	expiry := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "warden_idc_scim_token_expiry_seconds",
		Help: "Seconds until the newest SCIM token set through warden expires (negative: expired; 0 when none is set)."},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			infos, err := integration.SCIMTokenInfos(ctx, st, time.Now())
			if err != nil || len(infos) == 0 {
				return 0
			}
			return time.Until(infos[0].Expires).Seconds()
		})
	if err := srv.Registry().Register(expiry); err != nil {
		return err
	}
	log.Info("the sync writes Identity Center's directory over SCIM", "endpoint", cfg.IdentityCenter.SCIM.Endpoint, "configured_tokens", len(static))
	return nil
}

// scimTokenCommand is `warden integration scim-token`: set (from standard input) and show
// Identity Center's SCIM tokens.
func scimTokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "scim-token", Short: "Set or show the SCIM token warden provisions Identity Center with (identity_center.directory: scim)"}
	var sf clientFlags
	var expires string
	set := &cobra.Command{
		Use:   "set [--expires DATE] < token",
		Short: "Give warden a new SCIM token, read from standard input (never an argument)",
		Long: `set reads the token Identity Center's console showed when you generated it (Settings, Automatic
provisioning, Generate token) from standard input, and makes warden try it first. The previous token
is kept until Identity Center accepts the new one, then dropped: rotate by generating a new token,
setting it here, and deleting the old one in the console once warden integration scim-token shows the
new one accepted. Tokens last a year; --expires gives the date the console shows, if not a year from
now. The token is sealed with the auth key in warden's store and never shown again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), integration.MaxSCIMToken+2))
			if err != nil {
				return err
			}
			token := strings.TrimSpace(string(b))
			if token == "" {
				return errors.New("scim-token set: no token on standard input; pipe it in, for example: warden integration scim-token set < token.txt")
			}
			c, err := sf.client()
			if err != nil {
				return err
			}
			info, err := c.SetSCIMToken(cmd.Context(), server.SCIMTokenSet{Token: token, Expires: expires})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Set SCIM token %s, expiring %s; warden tries it first from now on.\nCheck it: warden integration scim-test\n",
				info.ID, info.Expires.Format(time.DateOnly))
			return nil
		},
	}
	set.Flags().StringVar(&expires, "expires", "", "when the token expires, as the console shows it (2027-11-30); default a year from now")
	sf.register(set)
	var stf clientFlags
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the SCIM tokens warden holds (never the tokens), their expiry and what to do",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := stf.client()
			if err != nil {
				return err
			}
			st, err := c.SCIMTokenStatus(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Directory: %s\n", st.Directory)
			if len(st.Tokens) == 0 {
				fmt.Fprintln(out, "No SCIM token set through warden.")
			}
			for i, t := range st.Tokens {
				state := "not yet accepted by Identity Center"
				if !t.AcceptedAt.IsZero() {
					state = "accepted " + t.AcceptedAt.Format(time.RFC3339)
				}
				order := "tried first"
				if i > 0 {
					order = "kept until the newer one is accepted"
				}
				fmt.Fprintf(out, "  %s  set %s by %s, expires %s, %s; %s\n", t.ID, t.SetAt.Format(time.DateOnly), t.SetBy, t.Expires.Format(time.DateOnly), state, order)
			}
			for _, w := range st.Warnings {
				fmt.Fprintf(out, "Warning: %s\n", w)
			}
			return nil
		},
	}
	stf.register(status)
	cmd.AddCommand(set, status)
	return cmd
}

// scimTestCommand is `warden integration scim-test`.
func scimTestCommand() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "scim-test",
		Short: "Check the connection to Identity Center's SCIM endpoint, as its own test connection would",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			res, err := c.SCIMTest(cmd.Context())
			if err != nil {
				return err
			}
			if !res.OK {
				return fmt.Errorf("scim-test: %s", res.Error)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "SCIM connection works (token %d of those held answered).\n", res.Token)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
