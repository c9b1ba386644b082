package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v3"

	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

// clientFlags address the server: --addr/WARDEN_ADDR (else the server of the latest warden login) and
// --token/WARDEN_TOKEN, else the token warden login stored for the server. Without any token, a
// server on this machine is called with the admin token of a local data directory (localTokens),
// so that a newcomer on the server's machine needs no set-up.
type clientFlags struct {
	addr, token string
	// tokenFile is the admin.token the client found, when it used one.
	tokenFile string
	// stored: the client uses the token warden login stored for its server.
	stored bool
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.addr, "addr", "", "warden server URL (env WARDEN_ADDR; default http://"+config.DefaultListen+")")
	cmd.Flags().StringVar(&f.token, "token", "", "API token (env WARDEN_TOKEN; default: the token warden login stored for the server, else for a server on this machine the admin.token of its data directory, or of the demo's)")
}

func (f *clientFlags) client() (*client.Client, error) {
	addr := firstNonEmpty(f.addr, os.Getenv("WARDEN_ADDR"), defaultServer(), config.DefaultListen)
	if token := firstNonEmpty(f.token, os.Getenv("WARDEN_TOKEN")); token != "" {
		return client.New(addr, token), nil
	}
	// The token warden login stored for this server (login.go).
	stored, expired := storedToken(addr)
	if stored != "" {
		f.stored = true
		return client.New(addr, stored), nil
	}
	if expired != nil && !isLoopback(addr) {
		return nil, expired
	}
	if !isLoopback(addr) {
		// The local admin token goes only to a server on this machine, never to one named elsewhere.
		return nil, fmt.Errorf("no API token for %s: run warden login --server %s, or set WARDEN_TOKEN or --token (a local admin.token is used only for a server on this machine)", addr, addr)
	}
	dirs := localTokenDirs()
	var found []string
	for _, d := range dirs {
		p := filepath.Join(d, "admin.token")
		if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("no API token: run warden login, set WARDEN_TOKEN or --token, or WARDEN_DATA_DIR to the server's data directory (no admin.token in %s)", strings.Join(dirs, " or "))
	}
	c := client.New(addr, readToken(found[0]))
	f.tokenFile = found[0]
	if len(found) > 1 {
		// Two local servers (warden serve and warden demo, say): the one at addr knows its own token.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, p := range found {
			try := client.New(addr, readToken(p))
			_, err := try.WhoAmI(ctx)
			var ce *client.Error
			if err == nil || !errors.As(err, &ce) || ce.Status != 401 {
				c, f.tokenFile = try, p
				break
			}
		}
	}
	return c, nil
}

// localTokenDirs are where a local server's admin token may be: WARDEN_DATA_DIR when it is set;
// otherwise the default data directory of warden serve, then of warden demo.
func localTokenDirs() []string {
	if d := os.Getenv("WARDEN_DATA_DIR"); d != "" {
		return []string{d}
	}
	return []string{config.DefaultDataDir(), demoDataDir()}
}

func readToken(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// isLoopback reports whether addr (a URL or host:port) names this machine's loopback interface.
func isLoopback(addr string) bool {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// source remembers where each object came from, to name it in errors.
type source struct {
	file string
	doc  int
}

func readFiles(files []string, stdin io.Reader) ([]*resource.Object, []source, error) {
	if len(files) == 0 {
		return nil, nil, errors.New("-f FILE is required (- for standard input)")
	}
	var objs []*resource.Object
	var srcs []source
	for _, f := range files {
		var b []byte
		var err error
		if f == "-" {
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(f)
		}
		if err != nil {
			return nil, nil, err
		}
		name := f
		if f == "-" {
			name = "<stdin>"
		}
		got, err := resource.DecodeAll(name, b)
		if err != nil {
			return nil, nil, err
		}
		if len(got) == 0 {
			return nil, nil, fmt.Errorf("%s: no resources in it", name)
		}
		for i, o := range got {
			objs = append(objs, o)
			srcs = append(srcs, source{name, i + 1})
		}
	}
	return objs, srcs, nil
}

// explain turns a server error about item N back into "file: document D (kind "name"): field: message".
func explain(err error, objs []*resource.Object, srcs []source) error {
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Item < 1 || ce.Item > len(srcs) {
		return err
	}
	src, o := srcs[ce.Item-1], objs[ce.Item-1]
	de := &resource.DocumentError{Source: src.file, Doc: src.doc, Kind: o.Kind, Name: o.Metadata.Name,
		Err: errors.New(ce.Error())}
	return de
}

func newCreateCmd() *cobra.Command { return newWriteCmd("create") }
func newApplyCmd() *cobra.Command  { return newWriteCmd("apply") }

func newWriteCmd(mode string) *cobra.Command {
	var cf clientFlags
	var files []string
	short := map[string]string{
		"create": "Create resources from YAML or JSON files, all or nothing",
		"apply":  "Create or update resources from YAML or JSON files, all or nothing",
	}[mode]
	cmd := &cobra.Command{
		Use:   mode + " -f FILE [-f FILE...]",
		Short: short,
		Long: short + `.

A file holds one or more resources (multi-document YAML separated by ---, a JSON object, or a
list). Every resource of every file is written in one transaction: if any is wrong, nothing is.
Use -f - to read standard input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			objs, srcs, err := readFiles(files, cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			res, err := c.BatchResponse(cmd.Context(), mode, objs)
			if err != nil {
				return explain(err, objs, srcs)
			}
			out := cmd.OutOrStdout()
			for _, r := range res.Results {
				fmt.Fprintf(out, "%s %s\n", r, r.Action)
			}
			for _, w := range res.Warnings {
				where := fmt.Sprintf("%s %q", w.Kind, w.Name)
				if w.Item >= 1 && w.Item <= len(srcs) {
					where = fmt.Sprintf("%s: document %d (%s)", srcs[w.Item-1].file, srcs[w.Item-1].doc, where)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s: %s\n", where, w)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "file to read (- for standard input); repeatable")
	cf.register(cmd)
	return cmd
}

func newGetCmd() *cobra.Command {
	var cf clientFlags
	var output string
	filters := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "get KIND [NAME]",
		Short: "Show resources",
		Long: `Show one resource, or every resource of a kind.

Kinds: user, role, access_list (list), access_list_member (member), access_request (request),
permission_set, account. Output is an aligned table by default; -o yaml prints documents that
warden apply accepts back, -o json prints JSON, -o name the names alone.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := resource.ParseKind(args[0])
			if err != nil {
				return err
			}
			switch output {
			case "table", "yaml", "json", "name":
			default:
				return fmt.Errorf("-o %q: use table, yaml, json or name", output)
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			var objs []*resource.Object
			single := len(args) == 2
			if single {
				o, err := c.Get(cmd.Context(), k, args[1])
				if err != nil {
					return err
				}
				objs = []*resource.Object{o}
			} else {
				q := map[string]string{}
				for key, v := range filters {
					if *v != "" {
						q[key] = *v
					}
				}
				if st, ok := q["state"]; ok {
					if q["state"], err = server.ParseRequestState(st); err != nil {
						return fmt.Errorf("--state: %w", err)
					}
				}
				if objs, err = c.List(cmd.Context(), k, q); err != nil {
					var ce *client.Error
					if errors.As(err, &ce) && filters[ce.Field] != nil {
						return fmt.Errorf("--%s: %s", ce.Field, ce.Message) // the query parameter is the flag
					}
					return err
				}
			}
			return printObjects(cmd.OutOrStdout(), k, objs, output, single)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, yaml, json or name (one name a line)")
	for _, f := range []struct{ name, help string }{
		{"list", "members: of this access list"}, {"member", "members: this member's memberships"},
		{"user", "requests: by this user"}, {"state", "requests: in this state (PENDING, APPROVED, DENIED, EXPIRED, CANCELLED; any case)"},
	} {
		filters[f.name] = cmd.Flags().String(f.name, "", f.help)
	}
	cf.register(cmd)
	return cmd
}

func printObjects(w io.Writer, k resource.Kind, objs []*resource.Object, output string, single bool) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if single {
			return enc.Encode(objs[0])
		}
		if objs == nil {
			objs = []*resource.Object{}
		}
		return enc.Encode(objs)
	case "yaml":
		for i, o := range objs {
			if i > 0 {
				fmt.Fprintln(w, "---")
			}
			if err := writeYAML(w, o); err != nil {
				return err
			}
		}
		return nil
	case "name":
		for _, o := range objs {
			fmt.Fprintln(w, o.Metadata.Name)
		}
		return nil
	case "table":
	default:
		return fmt.Errorf("-o %q: use table, yaml, json or name", output)
	}
	if len(objs) == 0 {
		fmt.Fprintf(w, "no %s resources\n", k)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cols, row := table(k)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, o := range objs {
		fmt.Fprintln(tw, strings.Join(row(o), "\t"))
	}
	return tw.Flush()
}

// writeYAML prints an object as YAML in the envelope's field order.
func writeYAML(w io.Writer, o *resource.Object) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return err
	}
	plain(&n)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return err
	}
	return enc.Close()
}

// plain drops JSON's flow and quoting styles so the encoder writes block YAML (it still quotes
// strings that would read back as another type, such as an account id).
func plain(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plain(c)
	}
}

func join(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	const max = 4
	if len(list) > max {
		return strings.Join(list[:max], ",") + fmt.Sprintf(",+%d", len(list)-max)
	}
	return strings.Join(list, ",")
}

// origin is where a user or list came from, as the tables show it (warden when unset).
func origin(o string) string {
	if o == "" {
		return "warden"
	}
	return o
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// assignments shows account assignments as permission_set@account.
func assignments(as []resource.AccountAssignment) string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.PermissionSet + "@" + a.Account
	}
	return join(out)
}

// requested shows a request's resources by name (permission set@account), as people asked.
func requested(rs []resource.RequestedResource) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = cmp.Or(r.PermissionSetName, r.PermissionSet) + "@" + cmp.Or(r.AccountName, r.Account)
	}
	return join(out)
}

// membership shows a member's state as the members listing computes it (status.membership):
// active, expired, or ineligible with the reason; "-" where it was not computed.
func membership(o *resource.Object) string {
	var st struct {
		Membership *struct{ State, Reason string } `json:"membership"`
	}
	if json.Unmarshal(o.Status, &st) != nil || st.Membership == nil {
		return "-"
	}
	if st.Membership.State == "ineligible" && st.Membership.Reason != "" {
		return "ineligible (" + st.Membership.Reason + ")"
	}
	return st.Membership.State
}

// problems counts what status.problems says is wrong with a resource ("-": nothing).
func problems(o *resource.Object) string {
	var st struct {
		Problems []string `json:"problems"`
	}
	if json.Unmarshal(o.Status, &st) != nil || len(st.Problems) == 0 {
		return "-"
	}
	return fmt.Sprintf("%d (-o yaml: status.problems)", len(st.Problems))
}

func table(k resource.Kind) ([]string, func(*resource.Object) []string) {
	switch k {
	case resource.KindUser:
		return []string{"NAME", "DISPLAY NAME", "EMAIL", "ROLES", "ADMIN", "ORIGIN"}, func(o *resource.Object) []string {
			s := o.Spec.(*resource.UserSpec)
			admin := "-"
			if s.Admin {
				admin = "yes"
			}
			return []string{o.Metadata.Name, orDash(s.DisplayName), orDash(s.Email), join(s.Roles), admin, origin(s.Origin)}
		}
	case resource.KindRole:
		return []string{"NAME", "ACCOUNT ASSIGNMENTS", "MAY REQUEST", "MAY REVIEW", "PROBLEMS"}, func(o *resource.Object) []string {
			s := o.Spec.(*resource.RoleSpec)
			req, rev := "-", "-"
			if r := s.Allow.Request; r != nil {
				may := append([]string{}, r.Roles...)
				for _, a := range r.AccountAssignments {
					may = append(may, a.PermissionSet+"@"+a.Account)
				}
				req = join(may)
			}
			if r := s.Allow.ReviewRequests; r != nil {
				rev = join(r.Roles)
			}
			return []string{o.Metadata.Name, assignments(s.Allow.AccountAssignments), req, rev, problems(o)}
		}
	case resource.KindAccessList:
		return []string{"NAME", "TITLE", "OWNERS", "GRANTS", "NEXT AUDIT", "ORIGIN"}, func(o *resource.Object) []string {
			s := o.Spec.(*resource.AccessListSpec)
			next := "-"
			if s.Audit != nil {
				next = when(s.Audit.NextAuditDate)
			}
			return []string{o.Metadata.Name, s.Title, join(s.Owners), join(s.Grants.Roles), next, origin(s.Origin)}
		}
	case resource.KindAccessListMember:
		return []string{"LIST", "MEMBER", "KIND", "EXPIRES", "ADDED BY", "STATE"}, func(o *resource.Object) []string {
			s := o.Spec.(*resource.AccessListMemberSpec)
			return []string{s.List, s.Member, s.Kind(), when(s.Expires), orDash(s.AddedBy), membership(o)}
		}
	case resource.KindAccessRequest:
		return []string{"NAME", "USER", "STATE", "ACCESS", "START", "END"}, func(o *resource.Object) []string {
			s := o.Spec.(*resource.AccessRequestSpec)
			access := join(s.Roles)
			if len(s.Resources) > 0 {
				access = requested(s.Resources)
			}
			return []string{o.Metadata.Name, s.User, s.State, access, when(s.Start), when(s.End)}
		}
	case resource.KindPermissionSet:
		return []string{"NAME", "SESSION", "MANAGED POLICIES", "ARN"}, func(o *resource.Object) []string {
			s := o.Spec.(*resource.PermissionSetSpec)
			pols := make([]string, len(s.ManagedPolicies))
			for i, p := range s.ManagedPolicies {
				pols[i] = p[strings.LastIndex(p, "/")+1:]
			}
			return []string{o.Metadata.Name, orDash(s.SessionDuration), join(pols), orDash(s.ARN)}
		}
	case resource.KindAccount:
		return []string{"ID", "NAME", "EMAIL", "STATUS"}, func(o *resource.Object) []string {
			s := o.Spec.(*resource.AccountSpec)
			return []string{o.Metadata.Name, s.Name, orDash(s.Email), orDash(s.Status)}
		}
	case resource.KindSAMLServiceProvider:
		return []string{"NAME", "ENTITY ID", "ACS URLS", "ATTRIBUTES", "START URL"}, func(o *resource.Object) []string {
			s := o.Spec.(*resource.SAMLServiceProviderSpec)
			return []string{o.Metadata.Name, s.EntityID, strconv.Itoa(len(s.ACS)), strconv.Itoa(len(s.Attributes)), orDash(s.StartURL)}
		}
	}
	return []string{"KIND", "NAME"}, func(o *resource.Object) []string { return []string{string(o.Kind), o.Metadata.Name} }
}

func newDeleteCmd() *cobra.Command {
	var cf clientFlags
	var revision int64
	cmd := &cobra.Command{
		Use:   "delete KIND NAME",
		Short: "Delete a resource",
		Long: `Delete a resource. warden refuses while other resources name it (a role granted by a list, a
user who is a member or an owner) and says which; an access list takes its members with it.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := resource.ParseKind(args[0])
			if err != nil {
				return err
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			if err := c.Delete(cmd.Context(), k, args[1], revision); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %q deleted\n", k, args[1])
			return nil
		},
	}
	cmd.Flags().Int64Var(&revision, "revision", 0, "delete only if the stored revision is this one")
	cf.register(cmd)
	return cmd
}

func newTokenCmd() *cobra.Command {
	tok := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var cf clientFlags
	var user, ttl string
	create := &cobra.Command{
		Use:   "create --user NAME [--ttl 720h]",
		Short: "Issue an API token acting as a user (administrators only)",
		Long: `Issue an API token acting as a user, printed once on standard output. Use it as WARDEN_TOKEN
to act as that user, e.g. to try what a member or a reviewer may do.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return errors.New("--user is required")
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			t, err := c.CreateToken(ctx, user, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), t.Token)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s acts as %s until %s\n", t.ID, t.User, t.Expires.Format(time.RFC3339))
			return nil
		},
	}
	create.Flags().StringVar(&user, "user", "", "the user the token acts as")
	create.Flags().StringVar(&ttl, "ttl", "720h", "how long the token lasts (at most the server's tokens.max_ttl)")
	cf.register(create)

	var lf clientFlags
	var lsUser, out string
	ls := &cobra.Command{
		Use:   "ls [--user NAME] [-o table|json]",
		Short: "List API tokens: yours, or (administrators) everyone's",
		Long: `List API tokens, never their secrets: an administrator sees every token (or one user's, with
--user), anyone else their own. ISSUER is who created a token; "for USER" marks one an issuer minted
for someone else. * marks the token you are using.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lf.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			toks, err := c.Tokens(ctx, lsUser)
			if err != nil {
				return err
			}
			switch out {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(toks)
			case "table":
			default:
				return fmt.Errorf("-o %q: use table or json", out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tISSUER\tCREATED\tEXPIRES")
			for _, t := range toks {
				id, expires, issuer := t.ID, "never", orDash(t.Issuer)
				if t.Current {
					id += " *"
				}
				if !t.Expires.IsZero() {
					expires = t.Expires.Format(time.RFC3339)
				}
				if t.Expired {
					expires += " (expired)"
				}
				if t.OnBehalf {
					issuer += " for " + t.User
				}
				if t.Admin {
					issuer = "bootstrap"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", id, t.User, issuer, t.Created.Format(time.RFC3339), expires)
			}
			return tw.Flush()
		},
	}
	ls.Flags().StringVar(&lsUser, "user", "", "only this user's tokens")
	ls.Flags().StringVarP(&out, "output", "o", "table", "table or json")
	lf.register(ls)

	var rf clientFlags
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token: your own, or (administrators) anyone's",
		Long: `Revoke an API token by its id (warden token ls shows ids): it fails from the next call on.
Revoking the bootstrap admin token makes the server issue a new one to <data-dir>/admin.token at
its next start.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := rf.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			t, err := c.RevokeToken(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %s (acting as %s) revoked\n", t.ID, t.User)
			return nil
		},
	}
	rf.register(revoke)
	tok.AddCommand(create, ls, revoke)
	return tok
}
