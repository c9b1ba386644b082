package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/idcsim"
)

func newSimCmd() *cobra.Command {
	var (
		listen, seed, quotas, statePath, generate, idpMetadata string
		opts                                                   idcsim.Options
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run an AWS IAM Identity Center simulator that speaks the AWS wire protocol",
		Long: `Run an AWS IAM Identity Center simulator: Organizations, sso-admin and identitystore over the
AWS JSON protocol, and SCIM v2 under /scim/v2/. The AWS SDKs and the AWS CLI work against it with
--endpoint-url (or AWS_ENDPOINT_URL) and any credentials.

--seed demo loads a small organisation to read; --generate loads one of a given size, e.g.
--generate users=2000,groups=300,members=20,accounts=150,permission_sets=40,group_assignments=3000,user_assignments=200.
--quotas aws applies AWS's quotas (20 calls/s, 10 outstanding assignment creations, 1s provisioning).
With --state FILE the state is loaded from FILE when it exists and saved there on exit.
Introspection (not part of the AWS API): GET /_sim/stats, /_sim/state, /_sim/info.

Identity Center's side of a SAML trust: --idp-metadata URL|FILE makes an IdP the external identity
source (also PUT /_sim/saml/idp-metadata); Identity Center's SP metadata is at
/_sim/saml/sp-metadata, its ACS at /platform/saml/acs/<tenant>, and the access portal's start URL
at /start (anonymous visitors are sent to the IdP; after sign-in it lists the user's accounts and
permission sets). Sign-in events: GET /_sim/saml/events.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch quotas {
			case "aws":
				opts = idcsim.AWSQuotas(opts)
			case "off", "":
			default:
				return fmt.Errorf("--quotas %q: use aws or off", quotas)
			}
			sim := idcsim.New(opts)
			loaded := false
			if statePath != "" {
				b, err := os.ReadFile(statePath)
				switch {
				case err == nil:
					if err := sim.Restore(b); err != nil {
						return fmt.Errorf("--state %s: %w", statePath, err)
					}
					loaded = true
				case !errors.Is(err, os.ErrNotExist):
					return fmt.Errorf("--state: %w", err)
				}
			}
			if !loaded {
				if err := seedSim(sim, seed, generate); err != nil {
					return err
				}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			url := "http://" + ln.Addr().String()
			sim.SetPublicURL(url)
			if idpMetadata != "" {
				if err := loadIdPMetadata(cmd.Context(), sim, idpMetadata); err != nil {
					ln.Close()
					return err
				}
			}
			srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
			go srv.Serve(ln)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "idcsim endpoint:    %s\n", url)
			fmt.Fprintf(out, "instance ARN:       %s\n", sim.InstanceARN())
			fmt.Fprintf(out, "identity store id:  %s\n", sim.IdentityStoreID())
			fmt.Fprintf(out, "SCIM endpoint:      %s/scim/v2/ (bearer token %s)\n", url, sim.SCIMToken())
			ep := sim.Endpoints(url)
			fmt.Fprintf(out, "SAML issuer URL:    %s\n", ep.EntityID)
			fmt.Fprintf(out, "SAML ACS URL:       %s\n", ep.ACS)
			fmt.Fprintf(out, "SP metadata:        %s\n", ep.Metadata)
			if idp, ok := sim.IdP(); ok {
				fmt.Fprintf(out, "identity provider:  %s\n", idp.EntityID)
				fmt.Fprintf(out, "access portal:      %s\n", ep.StartURL)
			} else {
				fmt.Fprintf(out, "access portal:      %s (give it an IdP first: --idp-metadata)\n", ep.StartURL)
			}
			fmt.Fprintf(out, "try:                AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws --region us-east-1 --endpoint-url %s sso-admin list-instances\n", url)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
			if statePath != "" {
				b, err := sim.Snapshot()
				if err != nil {
					return err
				}
				if err := writePrivate(statePath, b); err != nil {
					return fmt.Errorf("saving state: %w", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "state saved to %s\n", statePath)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8421", "listen address")
	f.StringVar(&seed, "seed", "demo", "initial organisation: demo or none")
	f.StringVar(&generate, "generate", "", "generate an organisation of this size (key=value,...) instead of a seed")
	f.StringVar(&quotas, "quotas", "off", "aws (AWS's rate and quotas) or off")
	f.StringVar(&statePath, "state", "", "load state from this file if it exists, save it there on exit")
	f.StringVar(&idpMetadata, "idp-metadata", "", "make this IdP (SAML metadata URL or file) Identity Center's external identity source")
	f.Int64Var(&opts.Seed, "random-seed", 1, "seed for generated ids and injected faults")
	f.DurationVar(&opts.ProvisioningDelay, "provisioning-delay", 0, "how long assignment operations stay IN_PROGRESS")
	f.DurationVar(&opts.CallLatency, "call-latency", 0, "latency added to every call")
	f.Float64Var(&opts.ThrottleRate, "throttle-rate", 0, "probability of a ThrottlingException on any call")
	f.Float64Var(&opts.FailRate, "fail-rate", 0, "probability that an assignment operation ends FAILED")
	f.Float64Var(&opts.ConflictRate, "conflict-rate", 0, "probability of a ConflictException on a write right after another")
	return cmd
}

// loadIdPMetadata gives the simulator an IdP's metadata from an http(s) URL or a file.
func loadIdPMetadata(ctx context.Context, sim *idcsim.Sim, src string) error {
	var b []byte
	var err error
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		b, err = idcsim.FetchIdPMetadata(ctx, src)
	} else {
		var f *os.File
		if f, err = os.Open(src); err == nil {
			b, err = io.ReadAll(io.LimitReader(f, 4*idcsim.MaxIdPMetadata+1))
			f.Close()
		}
	}
	if err == nil {
		err = sim.SetIdPMetadata(b)
	}
	if err != nil {
		return fmt.Errorf("--idp-metadata %s: %w", src, err)
	}
	return nil
}

func seedSim(sim *idcsim.Sim, seed, generate string) error {
	if generate != "" {
		sc, err := parseScale(generate)
		if err != nil {
			return err
		}
		return sim.Update(func(d *idcsim.Directory) error { return idcsim.Generate(d, sc) })
	}
	switch seed {
	case "demo":
		return sim.Update(idcsim.SeedDemo)
	case "none", "":
		return nil
	}
	return fmt.Errorf("--seed %q: use demo or none", seed)
}

func parseScale(s string) (idcsim.Scale, error) {
	sc := idcsim.Scale{Seed: 1}
	fields := map[string]*int{
		"users": &sc.Users, "groups": &sc.Groups, "members": &sc.MembersPerGroup, "accounts": &sc.Accounts,
		"permission_sets": &sc.PermissionSets, "group_assignments": &sc.GroupAssignments, "user_assignments": &sc.UserAssignments,
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if k == "seed" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return sc, fmt.Errorf("--generate seed=%q: not a number", v)
			}
			sc.Seed = n
			continue
		}
		p := fields[k]
		if !ok || p == nil {
			return sc, fmt.Errorf("--generate: %q is not key=value with a key of users, groups, members, accounts, permission_sets, group_assignments, user_assignments, seed", kv)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return sc, fmt.Errorf("--generate %s=%q: not a whole number", k, v)
		}
		*p = n
	}
	return sc, nil
}
