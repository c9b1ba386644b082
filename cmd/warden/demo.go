package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/importer"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
)

// demoOwner is the demo organisation's person who owns the imported lists and administers warden.
const demoOwner = "alice@example.com"

// DefaultSimListen is where the demo's simulator listens unless told otherwise: a fixed port, so
// that the endpoint it printed, and AWS CLI commands using it, still work after a restart.
const DefaultSimListen = "127.0.0.1:8421"

// The tour: developers may ask for AdministratorAccess on Production for a while, DevOps reviews.
const (
	demoRequester     = "dan@example.com" // in Developers
	demoReviewer      = "bob@example.com" // in DevOps
	demoTarget        = "AdministratorAccess-on-production"
	demoRequestRole   = "request-production-admin"
	demoReviewRole    = "review-production-admin"
	demoRequestList   = "developers"
	demoReviewList    = "devops"
	demoProductionID  = "637423191929"
	demoPermissionSet = "AdministratorAccess"
)

func newDemoCmd() *cobra.Command {
	var listen, simListen, dataDir, configPath string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run warden with a simulated Identity Center and a sample organisation, nothing to set up",
		Long: `Run warden with everything embedded: an Identity Center simulator seeded with a sample
organisation (six accounts, the management account among them, five permission sets, four groups,
a dozen people), warden on SQLite in a data directory of its own, the organisation imported (alice@example.com owns the lists and is an
administrator), two roles added for just-in-time access (developers may request AdministratorAccess
on Production for up to 2h, DevOps reviews), and the sync running. Every sample person gets a demo
password to sign in to warden's pages with (a second factor is optional in the demo only). It prints
each person's sign-in link and password, and a tour to paste into another terminal. Ctrl-C stops everything; running it again resumes its data, the simulator's
included, on the same addresses.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := config.Defaults()
			if configPath != "" {
				if err := cfg.LoadFile(configPath); err != nil {
					return err
				}
			}
			cfg.Listen, cfg.DataDir, cfg.Store = listen, dataDir, ""
			// The tour acts with API tokens minted for its people: in the demo only, they approve
			// and administer without a second factor (auth.step_up_exempt_tokens).
			cfg.Auth.StepUpExemptTokens = true
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			// The simulator, its state kept beside warden's.
			simState := filepath.Join(dataDir, "idcsim.json")
			sim := idcsim.New(idcsim.Options{Seed: 1, ProvisioningDelay: 300 * time.Millisecond})
			simResumed := false
			if b, err := os.ReadFile(simState); err == nil {
				if err := sim.Restore(b); err != nil {
					return fmt.Errorf("restoring the simulator from %s: %w", simState, err)
				}
				simResumed = true
			} else if err := sim.Update(idcsim.SeedDemo); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", simListen)
			if err != nil {
				return fmt.Errorf("--sim-listen %s: %w (is another warden demo or warden sim running? give the simulator another address with --sim-listen)", simListen, err)
			}
			simURL := "http://" + ln.Addr().String()
			sim.SetPublicURL(simURL)
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
			// The demo's people sign in with a password alone: in the demo only.
			cfg.Auth.SecondFactor = "optional"
			// The access portal is the simulator's: the aws-identity-center app's "Log in" lands there.
			cfg.SAML.StartURL = sim.Endpoints(simURL).StartURL
			if err := cfg.Validate(); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			// serve keeps /readyz at 503 until this returns: the organisation is imported by then.
			return serve(ctx, cfg, cmd.ErrOrStderr(), func(addr string, srv *server.Server) error {
				imported, err := importDemo(ctx, srv)
				if err != nil {
					return err
				}
				if err := demoTrust(ctx, srv, sim, simURL); err != nil {
					return err
				}
				t := tour{addr: addr, dataDir: cfg.DataDir, simURL: simURL, storeID: sim.IdentityStoreID(), instance: sim.InstanceARN(),
					cli: cliInvocation(os.Args[0])}
				if ps, err := srv.Store().Get(ctx, resource.KindPermissionSet, demoPermissionSet); err == nil {
					t.psARN = ps.Spec.(*resource.PermissionSetSpec).ARN
				}
				if imported {
					fmt.Fprintf(out, "\nImported the sample organisation into warden (%s), and added the roles %s and %s.\n", cfg.DataDir, demoRequestRole, demoReviewRole)
				} else {
					fmt.Fprintf(out, "\n%s\n", resumedNote(ctx, srv.Store(), cfg.DataDir, simResumed))
				}
				people, err := demoPeople(ctx, srv, cfg.DataDir)
				if err != nil {
					return err
				}
				printPeople(out, addr, people)
				printPortal(out, sim.Endpoints(simURL).StartURL)
				awsDir, err := demoAWSConfigs(ctx, srv, cfg.DataDir, simURL, people)
				if err != nil {
					return err
				}
				printAWSConfigs(out, awsDir)
				t.print(out)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", config.DefaultListen, "HTTP listen address")
	cmd.Flags().StringVar(&simListen, "sim-listen", DefaultSimListen, "the simulator's listen address (127.0.0.1:0: any free port)")
	cmd.Flags().StringVar(&dataDir, "data-dir", demoDataDir(), "where the demo keeps its data")
	cmd.Flags().StringVar(&configPath, "config", "", "a config file for the other settings (notifications, requests); listen, data_dir, store and identity_center are the demo's")
	return cmd
}

// demoTrust puts the SAML trust in place both ways, at every start (the simulator's address may
// have changed): the simulator takes warden's IdP metadata as Identity Center's external identity
// source, and warden takes the simulator's SP metadata as its service provider aws-identity-center,
// with the simulator's start URL.
func demoTrust(ctx context.Context, srv *server.Server, sim *idcsim.Sim, simURL string) error {
	idp := srv.SAML()
	if idp == nil {
		return errors.New("demo: warden's SAML identity provider is off")
	}
	md, err := idp.Metadata(ctx)
	if err != nil {
		return fmt.Errorf("demo: warden's IdP metadata: %w", err)
	}
	if err := sim.SetIdPMetadata(md); err != nil {
		return fmt.Errorf("demo: the simulator refuses warden's IdP metadata: %w", err)
	}
	spec, err := samlidp.ParseSPMetadata(sim.SPMetadata(simURL))
	if err != nil {
		return fmt.Errorf("demo: the simulator's SP metadata: %w", err)
	}
	spec.StartURL = sim.Endpoints(simURL).StartURL
	o := resource.New(resource.KindSAMLServiceProvider, samlidp.AppName)
	o.Spec = spec
	o.Metadata.Description = "The simulated Identity Center, from its SAML metadata"
	if cur, err := srv.Store().Get(ctx, resource.KindSAMLServiceProvider, samlidp.AppName); err == nil {
		spec.Attributes = cur.Spec.(*resource.SAMLServiceProviderSpec).Attributes
		o.Metadata = cur.Metadata
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, err := srv.Manage().Apply(ctx, manage.Actor{User: resource.BootstrapAdmin, Admin: true}, []*resource.Object{o}); err != nil {
		return fmt.Errorf("demo: setting the simulator as warden's SAML service provider: %w", err)
	}
	return nil
}

// printPortal says where the access portal is.
func printPortal(w io.Writer, startURL string) {
	fmt.Fprintf(w, "\nThe AWS access portal of the simulated Identity Center, which trusts warden as its identity\n")
	fmt.Fprintf(w, "provider (SAML): open %s in a browser, sign in to warden as a sample person,\n", startURL)
	fmt.Fprintf(w, "and the portal lists the accounts and permission sets that person may use.\n")
}

// demoDataDir is where the demo keeps its data unless told otherwise.
func demoDataDir() string { return filepath.Join(config.DefaultDataDir(), "demo") }

// resumedNote says that a run picked up an earlier one's state, and how much of it.
func resumedNote(ctx context.Context, st store.Store, dir string, simResumed bool) string {
	count := func(k resource.Kind) int {
		objs, err := st.List(ctx, k, store.ListOptions{})
		if err != nil {
			return 0
		}
		return len(objs)
	}
	sim := "the simulated Identity Center's from idcsim.json"
	if !simResumed {
		sim = "the simulated Identity Center seeded afresh (no idcsim.json), which the sync brings back in line"
	}
	return fmt.Sprintf("Resumed the demo's existing state from %s: warden's (%d users, %d access lists, %d roles, %d access requests) and %s.\nTo start afresh, stop it and delete %s.",
		dir, count(resource.KindUser), count(resource.KindAccessList), count(resource.KindRole), count(resource.KindAccessRequest), sim, dir)
}

// tour is what the demo prints to try in another terminal.
type tour struct {
	addr, dataDir, simURL, storeID, instance, psARN string
	cli                                             invocation
}

// invocation is how the printed steps run warden: a shell function for them to call (empty when
// "warden" on PATH is this warden), and the directory to run them in (for go run).
type invocation struct {
	define, dir string
}

// cliInvocation works out, from how this process was started, how the steps it prints can run
// warden: go run leaves its binary in a go-build directory that is gone once it exits, so the
// steps go run it again from the module's root; a binary named by a path is called by that path;
// one found on PATH by its name.
func cliInvocation(arg0 string) invocation {
	if isGoRunBinary(arg0) {
		dir, _ := os.Getwd()
		root := moduleRoot(dir)
		if root == "" {
			root = dir
		}
		return invocation{define: `warden() { go run ./cmd/warden "$@"; }`, dir: root}
	}
	if !strings.ContainsRune(arg0, filepath.Separator) {
		return invocation{} // found on PATH by this name
	}
	abs, err := filepath.Abs(arg0)
	if err != nil {
		abs = arg0
	}
	if filepath.Base(abs) == "warden" && onPath(abs) {
		return invocation{}
	}
	return invocation{define: `warden() { ` + shellQuote(abs) + ` "$@"; }`}
}

// isGoRunBinary reports whether path is a binary go run built: <tmp>/go-build.../b001/exe/<name>.
func isGoRunBinary(path string) bool {
	dir := filepath.Dir(path)
	if filepath.Base(dir) != "exe" {
		return false
	}
	for d := filepath.Dir(dir); d != filepath.Dir(d); d = filepath.Dir(d) {
		if strings.HasPrefix(filepath.Base(d), "go-build") {
			return true
		}
	}
	return false
}

// moduleRoot is the directory at or above dir holding the go.mod of warden's module ("" if none).
func moduleRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/wardenhq/warden\n") {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// onPath reports whether "warden" on PATH is the file at path.
func onPath(path string) bool {
	found, err := exec.LookPath("warden")
	if err != nil {
		return false
	}
	a, err1 := os.Stat(found)
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// shellQuote quotes s for sh, bash and zsh when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// print writes the tour: every indented line is a command to paste, in order, into bash or zsh.
func (t tour) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("")
	p("warden demo is running at %s (data in %s),", t.addr, t.dataDir)
	p("syncing with a simulated Identity Center at %s.", t.simURL)
	p("")
	where := "Try it in another terminal"
	if t.cli.dir != "" {
		where += " (warden is run with go run, from the module's root)"
	}
	p("%s; the CLI finds the demo's admin token by itself:", where)
	p("")
	if t.cli.dir != "" {
		p("  cd %s", shellQuote(t.cli.dir))
	}
	if t.cli.define != "" {
		p("  %s", t.cli.define)
	}
	if t.addr != "http://"+config.DefaultListen {
		p("  export WARDEN_ADDR=%s", t.addr)
	}
	if t.dataDir != demoDataDir() {
		p("  export WARDEN_DATA_DIR=%s", shellQuote(t.dataDir))
	}
	p("  warden get access_list")
	p("  warden get role %s -o yaml", demoRequestRole)
	p("")
	p("Developers may ask for %s for up to 2h, and DevOps reviews. As %s, a developer:", demoTarget, demoRequester)
	p("")
	p("  DAN=$(warden token create --user %s --ttl 8h)", demoRequester)
	p(`  REQ=$(WARDEN_TOKEN=$DAN warden request create --roles %s --duration 2h --reason "hotfix 42" -o name)`, demoTarget)
	p("")
	p("As %s, of DevOps, who reviews it:", demoReviewer)
	p("")
	p("  BOB=$(warden token create --user %s --ttl 8h)", demoReviewer)
	p("  WARDEN_TOKEN=$BOB warden request ls --to-review")
	p(`  WARDEN_TOKEN=$BOB warden request review $REQ --approve --reason "go ahead"`)
	p("")
	p("Within seconds Identity Center holds dan's assignment; see it with the AWS CLI v2:")
	p("")
	p(`  simaws() { AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_PAGER= aws --region us-east-1 --endpoint-url %s "$@"; }`, t.simURL)
	p(`  DAN_ID=$(simaws identitystore get-user-id --identity-store-id %s --alternate-identifier '{"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "%s"}}' --query UserId --output text)`, t.storeID, demoRequester)
	p(`  simaws sso-admin list-account-assignments --instance-arn %s --account-id %s --permission-set-arn %s --query "AccountAssignments[?PrincipalId=='$DAN_ID']"`, t.instance, demoProductionID, t.psARN)
	p("")
	p("The access ends with its window, 2h after the approval: warden deletes the assignment then.")
	p("See the window (spec.end) and the assignment's state, or end it now and list again:")
	p("")
	p("  warden request show $REQ")
	p("  WARDEN_TOKEN=$DAN warden request cancel $REQ")
	p("")
	p("Ctrl-C stops the demo; run it again to resume where you left off.")
}

// importDemo imports the simulated organisation into an empty store, makes its owner an
// administrator and adds the tour's roles; it reports whether it did. A store that already holds
// users is left as it is, so that a second run keeps whatever was changed in the first.
func importDemo(ctx context.Context, srv *server.Server) (bool, error) {
	existing, err := srv.Store().List(ctx, resource.KindUser, store.ListOptions{Limit: 1})
	if err != nil || len(existing) > 0 {
		return false, err
	}
	if srv.Sync() == nil {
		return false, errors.New("demo: sync is off")
	}
	if _, err := importer.Import(ctx, srv.Store(), srv.Sync().Client(), importer.Scope{}, []string{demoOwner}); err != nil {
		return false, fmt.Errorf("importing the demo organisation: %w", err)
	}
	owner, err := srv.Store().Get(ctx, resource.KindUser, demoOwner)
	if err != nil {
		return false, err
	}
	owner.Spec.(*resource.UserSpec).Admin = true
	if err := srv.Store().Update(ctx, owner); err != nil {
		return false, err
	}
	return true, seedTourRoles(ctx, srv.Store(), srv.Manage())
}

// seedTourRoles adds the roles of the tour, granted through the imported lists: Developers may
// request the imported AdministratorAccess-on-production for up to 2h, with a reason; DevOps
// reviews those requests.
func seedTourRoles(ctx context.Context, st store.Store, m *manage.Service) error {
	objs, err := resource.DecodeAll("demo", []byte(`
kind: role
version: v1
metadata: {name: `+demoRequestRole+`, description: "May ask for AdministratorAccess on Production, for up to 2h, with a reason"}
spec:
  allow:
    request: {roles: [`+demoTarget+`], max_duration: 2h, reason: required}
---
kind: role
version: v1
metadata: {name: `+demoReviewRole+`, description: "Reviews requests for AdministratorAccess on Production"}
spec:
  allow:
    review_requests: {roles: [`+demoTarget+`]}
`))
	if err != nil {
		return err
	}
	actor := manage.Actor{User: resource.BootstrapAdmin, Admin: true}
	if _, err := m.Create(ctx, actor, objs); err != nil {
		return fmt.Errorf("adding the tour's roles: %w", err)
	}
	var lists []*resource.Object
	for list, role := range map[string]string{demoRequestList: demoRequestRole, demoReviewList: demoReviewRole} {
		o, err := st.Get(ctx, resource.KindAccessList, list)
		if err != nil {
			return fmt.Errorf("granting %s to access list %s: %w", role, list, err)
		}
		spec := o.Spec.(*resource.AccessListSpec)
		spec.Grants.Roles = append(spec.Grants.Roles, role)
		lists = append(lists, o)
	}
	if _, err := m.Apply(ctx, actor, lists); err != nil {
		return fmt.Errorf("granting the tour's roles: %w", err)
	}
	return nil
}
