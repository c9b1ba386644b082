package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/server"
)

func newSAMLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "saml",
		Short: "warden as the SAML identity provider of AWS IAM Identity Center: metadata, keys, service provider",
		Long: `warden is the SAML identity provider Identity Center trusts (docs/saml.md): people reach the AWS
access portal by signing in to warden.

  warden saml metadata > warden-idp.xml     the IdP metadata to upload to Identity Center
  warden saml sp set --metadata-file FILE   Identity Center's SP metadata ("Download metadata file")
  warden saml rotate [--finish|--cleanup]   rotate the signing key without downtime`,
	}
	cmd.AddCommand(newSAMLMetadataCmd(), newSAMLRotateCmd(), newSAMLSPCmd())
	return cmd
}

func newSAMLMetadataCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "metadata",
		Short: "Print the IdP metadata: the file to upload to Identity Center",
		Long: `Print warden's SAML identity provider metadata (also served at GET /saml/metadata): the entity id,
the signing certificate (two while a rotation is under way), the SSO URL for the HTTP-Redirect and
HTTP-POST bindings, NameIDFormat emailAddress; no encryption key. Upload it in Identity Center:
Settings, Identity source, Change identity source, External identity provider, IdP SAML metadata.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, c.Addr+"/saml/metadata", nil)
			if err != nil {
				return err
			}
			resp, err := c.HTTP.Do(req)
			if err != nil {
				return fmt.Errorf("warden at %s: %w", c.Addr, err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s/saml/metadata: %s", c.Addr, resp.Status)
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cf.register(cmd)
	return cmd
}

func newSAMLRotateCmd() *cobra.Command {
	var cf clientFlags
	var finish, cleanup bool
	cmd := &cobra.Command{
		Use:   "rotate [--finish | --cleanup]",
		Short: "Rotate the SAML signing key in three steps, without downtime",
		Long: `Rotate the SAML signing key, in the three steps Identity Center's certificate rotation needs (each
audited, each an administrative change):

  warden saml rotate            make the next key and publish its certificate beside the active one;
                                upload the new metadata (or add the certificate) in Identity Center
  warden saml rotate --finish   sign with the next key; the former one becomes old
  warden saml rotate --cleanup  drop the old key; delete its certificate in Identity Center`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if finish && cleanup {
				return fmt.Errorf("--finish and --cleanup are two steps: give one")
			}
			step := "rotate"
			if finish {
				step = "finish"
			} else if cleanup {
				step = "cleanup"
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			var out server.RotateResponse
			if err := c.Do(cmd.Context(), http.MethodPost, "/v1/saml/rotate", server.RotateRequest{Step: step}, &out); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.Detail)
			return nil
		},
	}
	cmd.Flags().BoolVar(&finish, "finish", false, "sign with the next key (after Identity Center has its certificate)")
	cmd.Flags().BoolVar(&cleanup, "cleanup", false, "drop the old key")
	cf.register(cmd)
	return cmd
}

func newSAMLSPCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sp",
		Short: "Identity Center as warden's SAML service provider",
	}
	cmd.AddCommand(newSAMLSPSetCmd(), newSAMLSPShowCmd())
	return cmd
}

func newSAMLSPSetCmd() *cobra.Command {
	var cf clientFlags
	var file, from string
	cmd := &cobra.Command{
		Use:   "set (--metadata-file FILE | --metadata-url URL)",
		Short: "Set Identity Center as the service provider, from its SAML metadata",
		Long: `Set the service provider aws-identity-center from Identity Center's SAML metadata (in Identity
Center: Settings, Identity source, Change identity source, External identity provider, "Download
metadata file"): its entity id and every HTTP-POST ACS URL. Checked strictly: ACS URLs https only
(http on a loopback host, for the simulator), no other scheme, the entity id present. The
attribute mapping and start URL already set are kept (edit them with warden apply).
--metadata-url fetches over https (at most 256 KiB, 15 s).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (file == "") == (from == "") {
				return fmt.Errorf("give --metadata-file FILE or --metadata-url URL")
			}
			var doc []byte
			var err error
			if file != "" {
				doc, err = readBounded(file, samlidp.MaxSPMetadata)
			} else {
				doc, err = samlidp.FetchSPMetadata(cmd.Context(), from)
			}
			if err != nil {
				return err
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			var o resource.Object
			if err := c.Do(cmd.Context(), http.MethodPut, "/v1/saml/sp", server.SetSPRequest{Metadata: string(doc)}, &o); err != nil {
				return err
			}
			spec := o.Spec.(*resource.SAMLServiceProviderSpec)
			fmt.Fprintf(cmd.OutOrStdout(), "service provider %s: entity id %s, %d ACS URLs\n", o.Metadata.Name, spec.EntityID, len(spec.ACS))
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "metadata-file", "", "Identity Center's SAML metadata file")
	cmd.Flags().StringVar(&from, "metadata-url", "", "an https URL serving it")
	cf.register(cmd)
	return cmd
}

func readBounded(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes", path, limit)
	}
	return b, nil
}

func newSAMLSPShowCmd() *cobra.Command {
	var cf clientFlags
	var out string
	cmd := &cobra.Command{
		Use:   "show [-o yaml|json]",
		Short: "Show the service provider: entity id, ACS URLs, attribute mapping, start URL",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out != "yaml" && out != "json" {
				return fmt.Errorf("-o %q: use yaml or json", out)
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			o, err := c.Get(cmd.Context(), resource.KindSAMLServiceProvider, samlidp.AppName)
			if err != nil {
				return err
			}
			if out == "yaml" {
				return writeYAML(cmd.OutOrStdout(), o)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(o)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "yaml", "yaml or json")
	cf.register(cmd)
	return cmd
}

func newAppsCmd() *cobra.Command {
	var cf clientFlags
	var out string
	cmd := &cobra.Command{
		Use:   "apps [-o table|json]",
		Short: "List the apps you may open through warden (aws-identity-center) and their login URLs",
		Long: `List the apps you may open through warden's SAML identity provider: aws-identity-center, the AWS
access portal, for anyone who holds at least one account assignment. Its login URL signs you in
(IdP-initiated) and lands you at the portal's start URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out != "table" && out != "json" {
				return fmt.Errorf("-o %q: use table or json", out)
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			var apps server.AppsResponse
			if err := c.Do(cmd.Context(), http.MethodGet, "/v1/apps", nil, &apps); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(apps)
			}
			if len(apps.Items) == 0 {
				fmt.Fprintln(w, "No apps: you hold no account assignment (or warden has no service provider yet).")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTITLE\tLOGIN URL\tSTART URL")
			for _, a := range apps.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.Title, a.LoginURL, a.StartURL)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "table", "table or json")
	cf.register(cmd)
	return cmd
}
