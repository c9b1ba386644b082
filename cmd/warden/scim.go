package main

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/server"
)

func newSCIMCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scim",
		Short: "The SCIM service provider the company's identity provider provisions users and groups through",
		Long: `warden serves SCIM 2.0 at <public_url>/scim/v2/ for the connectors of scim.connectors in the
config file (docs/scim.md): Entra ID or Okta provision users and push groups into warden there.

  warden scim token create CONNECTOR   make (or replace) the connector's bearer token`,
	}
	tok := &cobra.Command{Use: "token", Short: "SCIM connector tokens"}
	tok.AddCommand(newSCIMTokenCreateCmd())
	cmd.AddCommand(tok)
	return cmd
}

func newSCIMTokenCreateCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "create CONNECTOR",
		Short: "Make the bearer token of a SCIM connector, printed once (replacing the one it had)",
		Long: `Make the bearer token of a SCIM connector (administrators; an administrative change) and print it
once on standard output: paste it as the secret token of the identity provider's provisioning
(Entra ID: Provisioning, Admin credentials, Secret token; Okta: API Authentication, Bearer token),
with the tenant URL <public_url>/scim/v2/. warden keeps only its hash. A connector has one token:
making a new one replaces it, and the former one stops working at once (rotation: make it, then
paste it at the provider).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			var out server.SCIMTokenResponse
			if err := c.Do(cmd.Context(), http.MethodPost, "/v1/scim/tokens", server.SCIMTokenRequest{Connector: args[0]}, &out); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.Token)
			what := "made"
			if out.Replaced {
				what = "made; the former one no longer works"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "SCIM token of connector %s %s: paste it at the identity provider with the tenant URL %s/scim/v2/\n", out.Connector, what, c.Addr)
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}
