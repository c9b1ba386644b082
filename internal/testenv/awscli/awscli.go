// Package awscli runs the real AWS CLI v2 (Debian's /usr/bin/aws, 2.9.19) in tests against a
// local endpoint (the simulator), in a temporary HOME that no stray call leaves.
//
// AWS CLI 2.9 ignores endpoint variables and services sections for sso-oidc and sso; it reads
// endpoint rule files from $HOME/.aws/models/<service>/<api-version>/endpoint-rule-set-1.json.
// Home writes one-rule files there sending sso-oidc, sso and sts to the endpoint. That is a test
// device only: nothing of warden's writes such files into a person's home.
package awscli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/testenv"
)

// Path is the AWS CLI v2 the tests run: Debian's. An aws first on PATH may be a pip v1.
const Path = "/usr/bin/aws"

// Need stops t when the AWS CLI v2 is missing (testenv.Need: a skip locally, a failure in CI).
func Need(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		testenv.Need(t, fmt.Errorf("the AWS CLI v2 at %s (Debian: apt-get install awscli): %v", Path, err))
	}
}

// Models are the services whose endpoint rules Home replaces, with their API versions.
var Models = []struct{ Service, Version string }{{"sso-oidc", "2019-06-10"}, {"sso", "2019-06-10"}, {"sts", "2011-06-15"}}

// RuleSet is a one-rule endpoint rule set sending every call to url.
func RuleSet(url string) []byte {
	param := func(builtIn, typ string) map[string]any {
		p := map[string]any{"required": false, "documentation": builtIn, "type": typ}
		if builtIn != "" {
			p["builtIn"] = builtIn
		}
		return p
	}
	b, _ := json.Marshal(map[string]any{
		"version": "1.0",
		"parameters": map[string]any{
			"Region":            param("AWS::Region", "String"),
			"UseDualStack":      param("AWS::UseDualStack", "Boolean"),
			"UseFIPS":           param("AWS::UseFIPS", "Boolean"),
			"Endpoint":          param("SDK::Endpoint", "String"),
			"UseGlobalEndpoint": param("AWS::STS::UseGlobalEndpoint", "Boolean"),
		},
		"rules": []any{map[string]any{"conditions": []any{}, "type": "endpoint",
			"endpoint": map[string]any{"url": url, "properties": map[string]any{}, "headers": map[string]any{}}}},
	})
	return b
}

// Home is a temporary HOME for the AWS CLI: endpoint rules aiming sso-oidc, sso and sts at
// endpoint, and ~/.aws/config holding config (none when empty).
func Home(t testing.TB, endpoint, config string) string {
	t.Helper()
	home := t.TempDir()
	for _, m := range Models {
		dir := filepath.Join(home, ".aws", "models", m.Service, m.Version)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "endpoint-rule-set-1.json"), RuleSet(endpoint), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if config != "" {
		if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// Env is the AWS CLI's whole environment in home: nothing of the caller's, and a proxy that
// refuses every HTTPS connection, so that no call reaches AWS (the local endpoint is plain HTTP).
func Env(home string) []string {
	return []string{"HOME=" + home, "PATH=/usr/bin:/bin", "HTTPS_PROXY=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "LANG=C.UTF-8"}
}

// Command is the AWS CLI with args in home (Env).
func Command(ctx context.Context, home string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, Path, args...)
	cmd.Env = Env(home)
	return cmd
}

// ClearCache removes the role credentials the CLI caches (~/.aws/cli/cache), so that the next
// call fetches them afresh from the portal API.
func ClearCache(home string) error { return os.RemoveAll(filepath.Join(home, ".aws", "cli", "cache")) }

// Login is an `aws sso login --no-browser` running in the background, with the verification URI
// and user code it printed for the person.
type Login struct {
	// URI is the verification URI (without the code); Code the user code (ABCD-EFGH).
	URI, Code string
	// Started is when the command started.
	Started time.Time
	cmd     *exec.Cmd
	out     strings.Builder
	stderr  strings.Builder
	copied  chan struct{}
}

var userCodeRE = regexp.MustCompile(`^[A-Z]{4}-[A-Z]{4}$`)

// StartLogin runs `aws sso login --no-browser` with args (e.g. --profile P) in home and reads
// what it prints until the verification URI (starting with uriPrefix) and the user code.
func StartLogin(t testing.TB, ctx context.Context, home, uriPrefix string, args ...string) *Login {
	t.Helper()
	l := &Login{Started: time.Now(), copied: make(chan struct{})}
	l.cmd = Command(ctx, home, append([]string{"sso", "login", "--no-browser"}, args...)...)
	out, err := l.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	l.cmd.Stderr = &l.stderr
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if l.cmd.ProcessState == nil {
			l.cmd.Process.Kill()
		}
	})
	sc := bufio.NewScanner(out)
	for (l.URI == "" || l.Code == "") && sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		l.out.WriteString(line + "\n")
		switch {
		case strings.HasPrefix(line, uriPrefix):
			l.URI = line
		case userCodeRE.MatchString(line):
			l.Code = line
		}
	}
	go func() {
		defer close(l.copied)
		for sc.Scan() {
			l.out.WriteString(sc.Text() + "\n")
		}
	}()
	if l.URI == "" || l.Code == "" {
		err := l.Wait()
		t.Fatalf("aws sso login printed no verification URI and code (%v):\n%s", err, l.Output())
	}
	return l
}

// Wait waits for the login to end; an error says how it failed, with what it printed.
func (l *Login) Wait() error {
	err := l.cmd.Wait()
	<-l.copied
	if err != nil {
		return fmt.Errorf("aws sso login: %v\n%s", err, l.Output())
	}
	return nil
}

// Output is what the login printed on stdout and stderr (complete once Wait returned).
func (l *Login) Output() string { return l.out.String() + l.stderr.String() }
