package awsconfig

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/testenv"
)

var opts = Options{StartURL: "http://127.0.0.1:8421/start", SSORegion: "us-east-1"}

var held = []Entry{
	{AccountID: "637423191929", AccountName: "Production", PermissionSet: "AdministratorAccess"},
	{AccountID: "058264527036", AccountName: "Staging", PermissionSet: "ReadOnlyAccess"},
	{AccountID: "111122223333", AccountName: "Shared Services", PermissionSet: "ViewOnlyAccess"},
}

func names(c *Config) []string {
	var out []string
	for _, p := range c.Profiles {
		out = append(out, p.Name)
	}
	return out
}

func TestNames(t *testing.T) {
	c, err := Build(opts, held, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(names(c), " ")
	want := "ReadOnlyAccess-on-staging ViewOnlyAccess-on-shared-services AdministratorAccess-on-production"
	if got != want {
		t.Fatalf("names %q, want %q", got, want)
	}
	if n := ProfileName(held[0]); n != "AdministratorAccess-on-production" {
		t.Fatalf("ProfileName %q", n)
	}
	// An account without a name, and odd characters.
	if n := ProfileName(Entry{AccountID: "123456789012", PermissionSet: "X"}); n != "X-on-123456789012" {
		t.Fatalf("no name: %q", n)
	}
	if n := ProfileName(Entry{AccountID: "123456789012", AccountName: "Ünï Prod_1 [x]", PermissionSet: "X"}); n != "X-on--n--prod-1--x-" {
		t.Fatalf("odd name: %q", n)
	}
	// Another template.
	c, err = Build(Options{StartURL: opts.StartURL, SSORegion: "eu-west-1", Template: "{{.AccountID}} {{.PermissionSet}}"}, held[:1], nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(c)[0]; got != "637423191929-AdministratorAccess" {
		t.Fatalf("template: %q", got)
	}
	if c.Profiles[0].Region != "eu-west-1" || c.Profiles[0].Output != "json" {
		t.Fatalf("defaults: %+v", c.Profiles[0])
	}
	for _, bad := range []string{"{{.Nope}}", "{{", "", strings.Repeat("x", MaxTemplate+1)} {
		o := opts
		o.Template = bad
		if bad == "" {
			o.Template = "{{if false}}x{{end}}"
		}
		if _, err := Build(o, held, nil); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
	for _, bad := range []Options{
		{StartURL: "", SSORegion: "us-east-1"},
		{StartURL: "http://x/start", SSORegion: "nowhere"},
		{StartURL: "http://x/start", SSORegion: "us-east-1", Session: "a b"},
		{StartURL: "http://x/start\n[profile evil]", SSORegion: "us-east-1"},
		{StartURL: "http://x/start", SSORegion: "us-east-1", Output: "xml"},
	} {
		if _, err := Build(bad, held, nil); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
	if _, err := Build(opts, []Entry{{AccountID: "12", PermissionSet: "X"}}, nil); err == nil {
		t.Error("a short account id accepted")
	}
	if _, err := Build(opts, []Entry{{AccountID: "123456789012", PermissionSet: "X]\n[profile y"}}, nil); err == nil {
		t.Error("a permission set with a newline accepted")
	}
}

func TestCollisions(t *testing.T) {
	entries := []Entry{
		{AccountID: "222222222222", AccountName: "Prod", PermissionSet: "Admin"},
		{AccountID: "111111111111", AccountName: "prod", PermissionSet: "Admin"},
		{AccountID: "333333333333", AccountName: "PROD", PermissionSet: "Admin"},
		{AccountID: "444444444444", AccountName: "Dev", PermissionSet: "Admin"},
	}
	c, err := Build(opts, entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(names(c), " ")
	want := "Admin-on-prod Admin-on-prod-222222222222 Admin-on-prod-333333333333 Admin-on-dev"
	if got != want {
		t.Fatalf("names %q, want %q", got, want)
	}
	// The same, whatever the order given.
	rev := []Entry{entries[3], entries[2], entries[1], entries[0]}
	c2, _ := Build(opts, rev, nil)
	if g := strings.Join(names(c2), " "); g != want {
		t.Fatalf("order changed names: %q", g)
	}
	// A reserved name (the user's own) and a suffix already taken: the counter.
	c, err = Build(opts, entries[:2], map[string]bool{"Admin-on-prod": true, "Admin-on-prod-111111111111": true})
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(names(c), " "); g != "Admin-on-prod-111111111111-2 Admin-on-prod-222222222222" {
		t.Fatalf("reserved: %q", g)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], `"Admin-on-prod" is yours`) {
		t.Fatalf("warnings %q", c.Warnings)
	}
	// Held wins over requestable for the same pair.
	c, _ = Build(opts, []Entry{{AccountID: "111111111111", PermissionSet: "A", Requestable: true}, {AccountID: "111111111111", PermissionSet: "A"}}, nil)
	if len(c.Profiles) != 1 || c.Profiles[0].Requestable {
		t.Fatalf("held and requestable: %+v", c.Profiles)
	}
}

const userConfig = `# my own settings; keep them
[default]
region = eu-central-1

[profile AdministratorAccess-on-production]
# made by hand, long ago
role_arn = arn:aws:iam::637423191929:role/Admin
source_profile = default

[profile mine]
region = eu-west-1
`

func TestMerge(t *testing.T) {
	out, cfg, err := Merge([]byte(userConfig), opts, held)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte(userConfig)) {
		t.Fatalf("the user's content changed:\n%s", out)
	}
	s := string(out)
	for _, want := range []string{
		BeginMarker("warden") + "\n[sso-session warden]\nsso_start_url = http://127.0.0.1:8421/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
		"[profile AdministratorAccess-on-production-637423191929]\nsso_session = warden\nsso_account_id = 637423191929\nsso_role_name = AdministratorAccess\nregion = us-east-1\noutput = json\n",
		"[profile ReadOnlyAccess-on-staging]\n",
		EndMarker("warden") + "\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in:\n%s", want, s)
		}
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "AdministratorAccess-on-production-637423191929") {
		t.Errorf("warnings %q", cfg.Warnings)
	}
	// Idempotent: a second run changes nothing.
	again, _, err := Merge(out, opts, held)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("second run changed the file (%v):\n%s", err, Diff(out, again, "config"))
	}
	if d := Diff(out, again, "config"); d != "" {
		t.Fatalf("diff of nothing: %q", d)
	}
	// The user adds a profile after the block; a run with one profile fewer and one more changes
	// only those, in place.
	edited := append(append([]byte{}, out...), []byte("\n[profile later]\nregion = us-west-2\n")...)
	next := []Entry{held[0], held[1], {AccountID: "999999999999", AccountName: "Sandbox", PermissionSet: "PowerUserAccess", Requestable: true,
		Request: "warden request create --roles request-sandbox"}}
	out2, _, err := Merge(edited, opts, next)
	if err != nil {
		t.Fatal(err)
	}
	f1, _ := Parse(edited, "warden")
	f2, _ := Parse(out2, "warden")
	if !bytes.Equal(f1.Before, f2.Before) || !bytes.Equal(f1.After, f2.After) || string(f2.After) != "\n[profile later]\nregion = us-west-2\n" {
		t.Fatalf("the user's content moved:\nbefore %q\nafter %q", f2.Before, f2.After)
	}
	if !strings.Contains(string(f2.Block), "# requestable: warden request create --roles request-sandbox\n[profile PowerUserAccess-on-sandbox]\n") {
		t.Fatalf("requestable profile:\n%s", f2.Block)
	}
	d := Diff(edited, out2, "~/.aws/config")
	for _, want := range []string{"+[profile PowerUserAccess-on-sandbox]", "-[profile ViewOnlyAccess-on-shared-services]", "+# requestable: warden request create --roles request-sandbox"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "ReadOnlyAccess-on-staging") {
		t.Errorf("diff shows an unchanged profile:\n%s", d)
	}
	// A user's sso-session of the same name is not taken over.
	if _, _, err := Merge([]byte("[sso-session warden]\nsso_region = us-east-1\n"), opts, held); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("user's sso-session: %v", err)
	}
	// Another session's block is the user's content (and its names are reserved).
	o2 := opts
	o2.Session = "other"
	out3, cfg3, err := Merge(out2, o2, held[:1])
	if err != nil || !bytes.HasPrefix(out3, out2) {
		t.Fatalf("second session: %v", err)
	}
	if cfg3.Profiles[0].Name != "AdministratorAccess-on-production-637423191929-2" {
		t.Fatalf("second session's name: %q", cfg3.Profiles[0].Name)
	}
}

func TestMergeEdges(t *testing.T) {
	// An empty file, a file without a trailing newline, CRLF.
	out, _, err := Merge(nil, opts, held[:1])
	if err != nil || !bytes.HasPrefix(out, []byte(BeginMarker("warden"))) {
		t.Fatalf("empty: %v %q", err, out)
	}
	out, _, err = Merge([]byte("[profile x]\nregion = us-east-1"), opts, held[:1])
	if err != nil || !bytes.HasPrefix(out, []byte("[profile x]\nregion = us-east-1\n\n# >>>")) {
		t.Fatalf("no trailing newline: %v %q", err, out)
	}
	crlf := []byte("[profile x]\r\nregion = us-east-1\r\n")
	out, _, err = Merge(crlf, opts, held[:1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, crlf) || bytes.Contains(bytes.ReplaceAll(out, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatalf("CRLF file got LF lines: %q", out)
	}
	again, _, err := Merge(out, opts, held[:1])
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("CRLF second run: %v", err)
	}
	// Too big.
	if _, _, err := Merge(make([]byte, MaxFile+1), opts, held); err == nil {
		t.Fatal("an oversized file accepted")
	}
	// Broken markers: errors naming the line.
	good, _, _ := Merge([]byte(userConfig), opts, held)
	block := string(good[len(userConfig):])
	noEnd := userConfig + strings.Replace(block, EndMarker("warden"), "# <<< warden sso-session warden", 1)
	for name, c := range map[string]struct {
		in, line string
	}{
		"no end":       {noEnd, "line 13"},
		"end only":     {userConfig + EndMarker("warden") + "\n", "line 12"},
		"two blocks":   {string(good) + block, "line 41"},
		"begin inside": {userConfig + BeginMarker("warden") + "\n" + block, "line 14"},
	} {
		_, _, err := Merge([]byte(c.in), opts, held)
		if err == nil || !strings.Contains(err.Error(), c.line+":") {
			t.Errorf("%s: %v, want an error at %s", name, err, c.line)
		}
	}
}

// TestAWSCLIReadsIt: the AWS CLI v2 reads the merged file as meant: the user's profiles and
// warden's, with the sso settings.
func TestAWSCLIReadsIt(t *testing.T) {
	aws := "/usr/bin/aws"
	if _, err := os.Stat(aws); err != nil {
		testenv.Need(t, errors.New("the AWS CLI v2 (Debian package awscli, /usr/bin/aws) is not installed"))
	}
	o := opts
	o.Services, o.Endpoints = "warden-sim", DemoEndpoints("http://127.0.0.1:8421")
	entries := append(held, Entry{AccountID: "999999999999", AccountName: "Sandbox", PermissionSet: "PowerUserAccess", Requestable: true})
	out, _, err := Merge([]byte(strings.ReplaceAll(userConfig, "\n", "\r\n")), o, entries)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command(aws, args...)
		cmd.Env = []string{"HOME=" + dir, "AWS_CONFIG_FILE=" + path, "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
			"HTTPS_PROXY=http://127.0.0.1:9", "AWS_PAGER=", "PATH=/usr/bin:/bin"}
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, b)
		}
		return strings.TrimSpace(string(b))
	}
	got := strings.Fields(run("configure", "list-profiles"))
	for _, want := range []string{"default", "AdministratorAccess-on-production", "mine", "AdministratorAccess-on-production-637423191929",
		"ReadOnlyAccess-on-staging", "ViewOnlyAccess-on-shared-services", "PowerUserAccess-on-sandbox"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("aws configure list-profiles lacks %q: %q", want, got)
		}
	}
	for profile, want := range map[string][2]string{
		"AdministratorAccess-on-production-637423191929": {"sso_account_id", "637423191929"},
		"ReadOnlyAccess-on-staging":                      {"sso_role_name", "ReadOnlyAccess"},
		"PowerUserAccess-on-sandbox":                     {"sso_session", "warden"},
		"AdministratorAccess-on-production":              {"role_arn", "arn:aws:iam::637423191929:role/Admin"},
		"mine":                                           {"region", "eu-west-1"},
	} {
		if g := run("configure", "get", want[0], "--profile", profile); g != want[1] {
			t.Errorf("%s %s = %q, want %q", profile, want[0], g, want[1])
		}
	}
}

// FuzzMerge: whatever the file holds, the user's content outside warden's block survives a merge,
// a second merge changes nothing, and a file that cannot be split is refused whole.
func FuzzMerge(f *testing.F) {
	f.Add([]byte(userConfig))
	f.Add([]byte("[profile x]\r\nregion = us-east-1"))
	f.Add([]byte(BeginMarker("warden") + "\n[profile x]\n"))
	f.Add([]byte(EndMarker("warden") + "\n"))
	good, _, _ := Merge([]byte(userConfig), opts, held)
	f.Add(good)
	f.Add(append(good, good...))
	f.Fuzz(func(t *testing.T, data []byte) {
		before, err := Parse(data, "warden")
		out, _, merr := Merge(data, opts, held)
		if err != nil {
			if merr == nil {
				t.Fatalf("Parse failed (%v) but Merge did not", err)
			}
			return
		}
		if merr != nil {
			if _, mine := before.Sessions["warden"]; mine {
				return
			}
			t.Fatalf("Merge: %v", merr)
		}
		if !bytes.HasPrefix(out, before.Before) || !bytes.HasSuffix(out, before.After) {
			t.Fatalf("the user's content did not survive:\nin  %q\nout %q", data, out)
		}
		after, err := Parse(out, "warden")
		if err != nil {
			t.Fatalf("the merged file does not parse: %v\n%q", err, out)
		}
		if !bytes.HasPrefix(after.Before, before.Before) || !bytes.Equal(after.After, before.After) {
			t.Fatalf("the user's content moved:\nin  %q\nout %q", data, out)
		}
		again, _, err := Merge(out, opts, held)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("a second merge changed the file (%v)", err)
		}
	})
}
