package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/smithy-go"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/auth/secret"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/idcsim"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"github.com/wardenhq/warden/internal/testenv"
)

// Approvals measured per benchmark iteration, and how many run at once.
const (
	benchApprovals   = 200
	benchConcurrency = 10
	standingAccounts = 20
)

// BenchmarkApprovalToCredentials: from an approval to the first GetRoleCredentials that succeeds,
// over 200 approvals, 10 at a time (ten people, each asking for an account × permission set of
// their own and having it approved, used, then cancelled: what a busy organisation's morning
// looks like). In process: warden's server on SQLite over real HTTP, its sync engine running
// (production defaults: 20 calls/s of its own, debounced store watch) against the simulator with
// AWS's quotas (20 calls/s collectively, 10 outstanding creations, 1 s provisioning).
//
// Each person signs in to the simulator once at setup as the AWS CLI (2.23 and later) does: SSO
// OIDC's authorization code grant with PKCE, allowed on the access portal with a portal session got
// through SAML sign-in at warden (warden's IdP). Each approval then: the request created (requester's token), the clock
// started, approved (a reviewer's token), and the portal API's GetRoleCredentials polled every
// 50 ms (aws-sdk-go-v2's sso client) until it answers credentials; the request is then cancelled
// and GetRoleCredentials polled until it refuses, so that the next approval starts without the
// assignment. Every iteration runs the fixed 200 (b.N-independent); p50-s and p99-s are over all
// approvals of all iterations, admin-calls/approval is the simulator's Identity Center API calls
// (sso-admin, identitystore, organizations: what the quota counts) from the first approval to the
// last cancellation's end, divided by the approvals, the cancellations' deletions included.
//
//	go test -run '^$' -bench ApprovalToCredentials -benchtime 1x ./internal/server
func BenchmarkApprovalToCredentials(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := b.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv := server.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.SetStepUp(0, true)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tokenFile := filepath.Join(dir, "admin.token")
	if _, err := srv.Tokens().EnsureAdminToken(ctx, tokenFile); err != nil {
		b.Fatal(err)
	}
	adminToken, err := readToken(tokenFile)
	if err != nil {
		b.Fatal(err)
	}
	admin := client.New(hs.URL, adminToken)

	// The simulator, with AWS's quotas; five accounts and two permission sets: ten pairs.
	sim := idcsim.New(idcsim.AWSQuotas(idcsim.Options{Seed: 15, ProvisioningDelay: time.Second}))
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	sim.SetPublicURL(simSrv.URL)
	type pair struct{ account, accountName, ps string }
	var pairs []pair
	if err := sim.Update(func(d *idcsim.Directory) error {
		for a := 0; a < 5; a++ {
			id, name := fmt.Sprintf("1000000000%02d", a), fmt.Sprintf("Bench %d", a)
			if err := d.AddAccount(id, name, fmt.Sprintf("bench%d@example.com", a)); err != nil {
				return err
			}
			for _, ps := range []string{"AdministratorAccess", "ReadOnlyAccess"} {
				pairs = append(pairs, pair{id, name, ps})
			}
		}
		for a := 0; a < standingAccounts; a++ {
			if err := d.AddAccount(fmt.Sprintf("2000000000%02d", a), fmt.Sprintf("Standing %d", a), fmt.Sprintf("standing%d@example.com", a)); err != nil {
				return err
			}
		}
		for _, ps := range []string{"AdministratorAccess", "ReadOnlyAccess"} {
			if _, err := d.CreatePermissionSet(ps, "", "PT1H"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}

	// warden's IdP and the SAML trust both ways, as the demo sets them up.
	box, err := secret.LoadOrCreateBox(filepath.Join(dir, "auth.key"))
	if err != nil {
		b.Fatal(err)
	}
	idp := samlidp.New(st, box, samlidp.Config{BaseURL: hs.URL, StartURL: sim.Endpoints(simSrv.URL).StartURL})
	if _, err := idp.Keys().Ensure(ctx); err != nil {
		b.Fatal(err)
	}
	srv.SetSAML(idp, false)
	md, err := idp.Metadata(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := sim.SetIdPMetadata(md); err != nil {
		b.Fatal(err)
	}
	spSpec, err := samlidp.ParseSPMetadata(sim.SPMetadata(simSrv.URL))
	if err != nil {
		b.Fatal(err)
	}
	spSpec.StartURL = sim.Endpoints(simSrv.URL).StartURL
	sp := resource.New(resource.KindSAMLServiceProvider, samlidp.AppName)
	sp.Spec = spSpec

	// The organisation: a role per pair, people who may request them, a reviewer.
	var docs strings.Builder
	for k, p := range pairs {
		fmt.Fprintf(&docs, "kind: role\nversion: v1\nmetadata: {name: pair-%d}\nspec: {allow: {account_assignments: [{account: %q, permission_set: %s}]}}\n---\n", k, p.accountName, p.ps)
	}
	// Standing access besides: ten teams (access lists, groups in Identity Center), each holding
	// ReadOnlyAccess on the twenty Standing accounts: 200 assignments warden owns. Without them the
	// ten requests' assignments would be all warden owns, and ten cancellations in one plan would
	// be held back by the safety brake (more than 10% of the assignments warden owns removed).
	docs.WriteString("kind: role\nversion: v1\nmetadata: {name: standing}\nspec: {allow: {account_assignments: [")
	for a := 0; a < standingAccounts; a++ {
		if a > 0 {
			docs.WriteString(", ")
		}
		fmt.Fprintf(&docs, "{account: \"Standing %d\", permission_set: ReadOnlyAccess}", a)
	}
	docs.WriteString("]}}\n---\n")
	for k := 0; k < benchConcurrency; k++ {
		fmt.Fprintf(&docs, "kind: access_list\nversion: v1\nmetadata: {name: team%d}\nspec: {title: Team %d, owners: [rita@example.com], grants: {roles: [standing]}}\n---\n", k, k)
		fmt.Fprintf(&docs, "kind: access_list_member\nversion: v1\nmetadata: {}\nspec: {list: team%d, member: u%02d@example.com}\n---\n", k, k)
	}
	docs.WriteString("kind: role\nversion: v1\nmetadata: {name: requester}\nspec: {allow: {request: {roles: [\"pair-*\"], max_duration: 8h}}}\n---\n")
	docs.WriteString("kind: role\nversion: v1\nmetadata: {name: reviewer}\nspec: {allow: {review_requests: {roles: [\"pair-*\"]}}}\n---\n")
	docs.WriteString("kind: user\nversion: v1\nmetadata: {name: rita@example.com}\nspec: {display_name: Rita, roles: [reviewer]}\n")
	users := make([]string, benchConcurrency)
	for k := range users {
		users[k] = fmt.Sprintf("u%02d@example.com", k)
		fmt.Fprintf(&docs, "---\nkind: user\nversion: v1\nmetadata: {name: %s}\nspec: {display_name: U %d, email: %s, roles: [requester]}\n", users[k], k, users[k])
	}
	objs, err := resource.DecodeAll("bench.yaml", []byte(docs.String()))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := manage.New(st).Apply(ctx, manage.Actor{User: "bench", Admin: true}, append(objs, sp)); err != nil {
		b.Fatal(err)
	}

	// The sync engine, as `warden serve` runs it (production defaults).
	cfg := idc.Config{Region: "us-east-1"}
	idcClient, err := idc.NewFromConfig(ctx, aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(simSrv.URL)}, cfg)
	if err != nil {
		b.Fatal(err)
	}
	engine := reconcile.New(st, idcClient, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.SetSync(engine)
	engineDone := make(chan struct{})
	go func() { engine.Run(ctx); close(engineDone) }()
	defer func() { cancel(); <-engineDone }()
	testenv.Eventually(b, 3*time.Minute, "the people and the standing assignments provisioned to the simulator", func() bool {
		n, standing := 0, 0
		sim.Update(func(d *idcsim.Directory) error {
			for _, u := range users {
				if _, ok := d.UserID(u); ok {
					n++
				}
			}
			standing = len(d.Assignments())
			return nil
		})
		return n == len(users) && standing == standingAccounts*benchConcurrency && sim.Stats().Outstanding == 0
	})

	// Each person signs in once, as `aws sso login` does; ten at a time.
	awsCfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(simSrv.URL), RetryMaxAttempts: 1,
		Credentials: aws.AnonymousCredentials{}}
	oidc, portal := ssooidc.NewFromConfig(awsCfg), sso.NewFromConfig(awsCfg)
	tokens := make([]string, len(users))
	requesters := make([]*client.Client, len(users))
	var wg sync.WaitGroup
	errs := make([]error, len(users))
	for k, u := range users {
		tok, err := admin.CreateToken(ctx, u, "8h")
		if err != nil {
			b.Fatal(err)
		}
		requesters[k] = client.New(hs.URL, tok.Token)
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[k], errs[k] = portalToken(ctx, srv, hs.URL, simSrv.URL, sim.Endpoints(simSrv.URL).StartURL, oidc, u)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	rt, err := admin.CreateToken(ctx, "rita@example.com", "8h")
	if err != nil {
		b.Fatal(err)
	}
	reviewer := client.New(hs.URL, rt.Token)

	adminCalls := func() int {
		n := 0
		for op, c := range sim.Stats().Calls {
			if !strings.HasPrefix(op, "sso:") && !strings.HasPrefix(op, "sso-oidc:") && !strings.HasPrefix(op, "sts:") {
				n += c
			}
		}
		return n
	}
	var (
		mu    sync.Mutex
		took  []time.Duration
		calls int
	)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := adminCalls()
		next := make(chan int, benchApprovals)
		for j := 0; j < benchApprovals; j++ {
			next <- j
		}
		close(next)
		for k := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range next {
					d, err := approveAndUse(ctx, requesters[k], reviewer, portal, tokens[k], fmt.Sprintf("pair-%d", k), pairs[k].account, pairs[k].ps, j)
					if err != nil {
						errs[k] = err
						return
					}
					mu.Lock()
					took = append(took, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		calls += adminCalls() - before
	}
	b.StopTimer()
	slices.Sort(took)
	q := func(p float64) float64 { return took[int(p*float64(len(took)-1))].Seconds() }
	b.ReportMetric(q(0.5), "p50-s")
	b.ReportMetric(q(0.99), "p99-s")
	b.ReportMetric(took[len(took)-1].Seconds(), "max-s")
	b.ReportMetric(float64(calls)/float64(len(took)), "admin-calls/approval")
	b.ReportMetric(float64(sim.Stats().Throttled), "throttled")
	if os.Getenv("WARDEN_BENCH_CALLS") != "" {
		b.Logf("calls: %v", sim.Stats().Calls)
	}
	if q(0.99) >= 2 {
		b.Logf("p99 %.2f s is over the 2 s target", q(0.99))
	}
}

// approveAndUse runs one approval: request, approve, poll GetRoleCredentials until it succeeds
// (the measure: from just before the approval is sent), cancel, poll until it is refused.
func approveAndUse(ctx context.Context, requester, reviewer *client.Client, portal *sso.Client, token, role, account, ps string, j int) (time.Duration, error) {
	res, err := requester.RequestCreate(ctx, server.RequestCreate{Roles: []string{role}, Reason: fmt.Sprintf("bench %d", j), Duration: "1h"})
	if err != nil {
		return 0, fmt.Errorf("request %d: %w", j, err)
	}
	id := res.Request.Metadata.Name
	in := &sso.GetRoleCredentialsInput{AccessToken: aws.String(token), AccountId: aws.String(account), RoleName: aws.String(ps)}
	start := time.Now()
	if _, err := reviewer.RequestReview(ctx, id, server.RequestReview{Decision: "APPROVE"}); err != nil {
		return 0, fmt.Errorf("approving %s: %w", id, err)
	}
	var took time.Duration
	err = sample(time.Minute, id+" approved, GetRoleCredentials to succeed", func() (bool, error) {
		_, err := portal.GetRoleCredentials(ctx, in)
		if err == nil {
			took = time.Since(start)
			return true, nil
		}
		if !refused(err) {
			return false, fmt.Errorf("GetRoleCredentials after approving %s: %w", id, err)
		}
		return false, nil
	})
	if err != nil {
		return 0, err
	}
	if _, err := requester.RequestEnd(ctx, id, "cancel"); err != nil {
		return 0, fmt.Errorf("cancelling %s: %w", id, err)
	}
	err = sample(time.Minute, id+" cancelled, GetRoleCredentials to refuse", func() (bool, error) {
		_, err := portal.GetRoleCredentials(ctx, in)
		if refused(err) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("GetRoleCredentials after cancelling %s: %w", id, err)
		}
		return false, nil
	})
	return took, err
}

// refused: the portal API's answer for a role the user holds no assignment of.
func refused(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ForbiddenException"
}

// sample calls cond every 50 ms until it says done, for at most limit: the measurement's
// resolution. (The benchmark measures wall-clock latency through real HTTP, a real sync engine and
// the simulator's real 1 s provisioning; it samples what a client would see, as a client polls.)
func sample(limit time.Duration, what string, cond func() (done bool, err error)) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := cond()
		if err != nil || done {
			return err
		}
		select {
		case <-deadline.C:
			return fmt.Errorf("%s: not after %s", what, limit)
		case <-tick.C:
		}
	}
}

var (
	benchInputRE   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
	benchCSRFRE    = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	benchRequestRE = regexp.MustCompile(`name="request" value="([^"]+)"`)
)

// portalToken signs user in as `aws sso login` (2.23 and later) does: a client registered with SSO
// OIDC for the authorization code grant, its /authorize page opened by a browser holding a warden
// session (the portal sends it to warden's SAML sign-on, whose Response it posts to the portal's
// ACS, which returns it to /authorize), Allow, and the code exchanged with its PKCE verifier.
// Nothing to poll: the device flow's grant would make each sign-in wait out its interval.
func portalToken(ctx context.Context, srv *server.Server, wardenURL, simURL, startURL string, oidc *ssooidc.Client, user string) (string, error) {
	const redirect = "http://127.0.0.1:9/oauth/callback" // never called: the browser stops at it
	reg, err := oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-warden"), ClientType: aws.String("public"),
		Scopes: []string{"sso:account:access"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		RedirectUris: []string{"http://127.0.0.1/oauth/callback"}, IssuerUrl: aws.String(startURL)})
	if err != nil {
		return "", err
	}
	// A warden session for user, given to the browser for warden's address only.
	rec := httptest.NewRecorder()
	if _, err := srv.Sessions().Issue(ctx, rec, httptest.NewRequest("POST", "/login", nil), user, auth.MethodUse{Method: auth.MethodPassword, At: time.Now()}); err != nil {
		return "", err
	}
	jar, _ := cookiejar.New(nil)
	wu, _ := url.Parse(wardenURL)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &wardenCookies{host: wu.Host, cookies: rec.Result().Cookies(), next: http.DefaultTransport},
		CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			if r.URL.Path == "/oauth/callback" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	read := func(res *http.Response, err error) (string, error) {
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s %s: %d %s", res.Request.Method, res.Request.URL, res.StatusCode, body)
		}
		return string(body), nil
	}
	verifier := strings.Repeat(strings.SplitN(user, "@", 2)[0], 8) + "-pkce-verifier-0123456789abcdef"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {aws.ToString(reg.ClientId)}, "redirect_uri": {redirect}, "state": {"bench"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "scopes": {"sso:account:access"}}
	// /authorize, anonymous: to warden's SAML sign-on, which answers the auto-posting form a
	// browser's script submits.
	page, err := read(browser.Get(simURL + "/authorize?" + q.Encode()))
	if err != nil {
		return "", err
	}
	form := formRE.FindStringSubmatch(page) // saml_test.go's: the auto-posting form
	if form == nil {
		return "", fmt.Errorf("/authorize led to no SAML form: %s", page)
	}
	fields := url.Values{}
	for _, m := range benchInputRE.FindAllStringSubmatch(page, -1) {
		fields.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if page, err = read(browser.PostForm(html.UnescapeString(form[1]), fields)); err != nil {
		return "", err
	}
	csrf, reqID := benchCSRFRE.FindStringSubmatch(page), benchRequestRE.FindStringSubmatch(page)
	if csrf == nil || reqID == nil {
		return "", fmt.Errorf("signed in, the consent page has no form: %s", page)
	}
	res, err := browser.PostForm(simURL+"/authorize", url.Values{"csrf_token": {csrf[1]}, "request": {reqID[1]}, "decision": {"allow"}})
	if err != nil {
		return "", err
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("allowing the client: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok, err := oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("authorization_code"),
		Code: aws.String(loc.Query().Get("code")), RedirectUri: aws.String(redirect), CodeVerifier: aws.String(verifier)})
	if err != nil {
		return "", fmt.Errorf("CreateToken for %s: %w", user, err)
	}
	return aws.ToString(tok.AccessToken), nil
}

// wardenCookies adds warden's session cookies to the browser's requests to warden.
type wardenCookies struct {
	host    string
	cookies []*http.Cookie
	next    http.RoundTripper
}

func (w *wardenCookies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == w.host {
		r = r.Clone(r.Context())
		for _, c := range w.cookies {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return w.next.RoundTrip(r)
}
