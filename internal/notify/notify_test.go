package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/clock"
	"github.com/wardenhq/warden/internal/notify"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/sqlite"
)

const org = `
kind: account
version: v1
metadata: {name: "058264527036"}
spec: {name: Staging}
---
kind: permission_set
version: v1
metadata: {name: AdministratorAccess}
spec: {arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-aaaaaaaaaaaaaaaa"}
---
kind: role
version: v1
metadata: {name: staging-admin}
spec: {allow: {account_assignments: [{account: Staging, permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: developer}
spec:
  allow:
    request:
      roles: [staging-admin]
      account_assignments: [{account: Staging, permission_set: AdministratorAccess}]
      max_duration: 4h
      thresholds: [{approve: 2, deny: 1}]
---
kind: role
version: v1
metadata: {name: lead}
spec: {allow: {review_requests: {roles: [staging-admin]}}}
---
kind: user
version: v1
metadata: {name: dan}
spec: {roles: [developer]}
---
kind: user
version: v1
metadata: {name: alice}
spec: {}
---
kind: user
version: v1
metadata: {name: bob}
spec: {}
---
kind: user
version: v1
metadata: {name: carol}
spec: {}
---
kind: access_list
version: v1
metadata: {name: leads}
spec: {title: Leads, owners: [alice], grants: {roles: [lead]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: leads, member: alice}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: leads, member: bob}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: leads, member: carol}
`

type env struct {
	t     *testing.T
	ctx   context.Context
	store store.Store
	srv   *server.Server
	url   string
	admin *client.Client
}

// newEnv runs the real server over HTTP on SQLite, with the org applied.
func newEnv(t *testing.T, pendingTTL time.Duration) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "warden.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, st, pendingTTL)
}

func newEnvOn(t *testing.T, st store.Store, pendingTTL time.Duration) *env {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() { st.Close() })
	srv := server.New(st, slog.New(slog.DiscardHandler))
	srv.SetPendingTTL(pendingTTL)
	// The reviewers here act with tokens an administrator minted: automation's tokens, exempt from
	// step-up as auth.step_up_exempt_tokens allows (what is tested is the notifications).
	srv.SetStepUp(0, true)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if _, err := srv.Tokens().EnsureAdminToken(ctx, tokenFile); err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, store: st, srv: srv, url: hs.URL, admin: client.New(hs.URL, strings.TrimSpace(string(tok)))}
	e.apply(org)
	return e
}

// fakeClock gives the server a fake clock reading now, and returns it for the notifier.
func (e *env) fakeClock() *clock.Fake {
	c := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	e.srv.UseClock(c)
	return c
}

// waitTimer waits until something waits for the clock to reach at.
func waitTimer(t *testing.T, c *clock.Fake, at time.Time, what string) {
	t.Helper()
	if !c.WaitUntil(10*time.Second, at) {
		t.Fatalf("nothing waits for %s at %v; the clock's timers are at %v", what, at, c.Pending())
	}
}

// queued is what the notifier has made of time so far, from its progress in the store: the
// time-driven notifications made (queued or sent) and the deliveries not yet made.
func (e *env) queued() (sent []string, outbox int) {
	e.t.Helper()
	o, err := e.store.Get(e.ctx, resource.KindNotifyState, "notifier")
	if err != nil {
		e.t.Fatal(err)
	}
	st := o.Spec.(*resource.NotifyStateSpec)
	for k := range st.Sent {
		sent = append(sent, k)
	}
	return sent, len(st.Outbox)
}

func (e *env) apply(docs string) {
	e.t.Helper()
	objs, err := resource.DecodeAll("test", []byte(docs))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.admin.Batch(e.ctx, "apply", objs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) as(user string) *client.Client {
	e.t.Helper()
	tok, err := e.admin.CreateToken(e.ctx, user, "1h")
	if err != nil {
		e.t.Fatal(err)
	}
	return client.New(e.url, tok.Token)
}

func (e *env) request(c *client.Client, in server.RequestCreate) string {
	e.t.Helper()
	got, err := c.RequestCreate(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return got.Request.Metadata.Name
}

func (e *env) review(c *client.Client, id, decision string) {
	e.t.Helper()
	if _, err := c.RequestReview(e.ctx, id, server.RequestReview{Decision: decision, Reason: "ok by me"}); err != nil {
		e.t.Fatal(err)
	}
}

// hit is one request a receiver got.
type hit struct {
	at     time.Time
	path   string
	header http.Header
	body   []byte
}

// receiver is a real HTTP webhook receiver; answer decides each reply (nil: 200).
type receiver struct {
	mu     sync.Mutex
	hits   []hit
	answer func(n int, r *http.Request) (int, http.Header)
	url    string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{time.Now(), r.URL.Path, r.Header.Clone(), b})
		n, answer := len(rc.hits), rc.answer
		rc.mu.Unlock()
		status := http.StatusOK
		if answer != nil {
			var h http.Header
			status, h = answer(n, r)
			for k, v := range h {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(hs.Close)
	rc.url = hs.URL
	return rc
}

func (rc *receiver) setAnswer(f func(n int, r *http.Request) (int, http.Header)) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

func (rc *receiver) got(path string) []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []hit
	for _, h := range rc.hits {
		if h.path == path {
			out = append(out, h)
		}
	}
	return out
}

// wait waits until path has n hits, and fails on more after settle.
func (rc *receiver) wait(t *testing.T, path string, n int, timeout time.Duration) []hit {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for len(rc.got(path)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d deliveries after %v, want %d:\n%s", path, len(rc.got(path)), timeout, n, dump(rc.got(path)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return rc.got(path)
}

// settle waits a little and checks nothing more came to path.
func (rc *receiver) settle(t *testing.T, path string, n int, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	if got := rc.got(path); len(got) != n {
		t.Fatalf("%s: %d deliveries, want %d:\n%s", path, len(got), n, dump(got))
	}
}

func dump(hits []hit) string {
	var b strings.Builder
	for _, h := range hits {
		b.WriteString(h.at.Format("15:04:05.000 ") + string(h.body) + "\n")
	}
	return b.String()
}

func payload(t *testing.T, h hit) notify.Payload {
	t.Helper()
	var p notify.Payload
	if err := json.Unmarshal(h.body, &p); err != nil {
		t.Fatalf("payload %s: %v", h.body, err)
	}
	return p
}

// start runs a notifier until the test ends or the returned stop is called.
func start(t *testing.T, st store.Store, cfg notify.Config, opts ...notify.Option) (stop func()) {
	t.Helper()
	opts = append([]notify.Option{notify.WithLogger(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))}, opts...)
	n, err := notify.New(st, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Init(context.Background()); err != nil { // as serve does before it listens
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("notifier: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Every request event, in order, in the json form (all fields, signed) and the slack form.
func TestRequestEventsInBothFormats(t *testing.T) {
	e := newEnv(t, time.Hour)
	rc := newReceiver(t)
	cfg := notify.Config{Webhooks: []notify.Webhook{
		{Name: "generic", URL: rc.url + "/json", Format: "json", SecretEnv: "HOOK_SECRET", Headers: map[string]string{"Authorization": "Bearer abc"}},
		{Name: "chat", URL: rc.url + "/slack", Format: "slack"},
	}}
	start(t, e.store, cfg, notify.WithGetenv(func(k string) string { return map[string]string{"HOOK_SECRET": "s3cret"}[k] }))
	dan, alice, bob, carol := e.as("dan"), e.as("alice"), e.as("bob"), e.as("carol")

	r1 := e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy 7", Duration: "1h"})
	e.review(alice, r1, "APPROVE")
	e.review(bob, r1, "APPROVE")
	r2 := e.request(dan, server.RequestCreate{Resources: []resource.AccountAssignment{{Account: "Staging", PermissionSet: "AdministratorAccess"}}, Reason: "look"})
	e.review(carol, r2, "DENY")
	r3 := e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "oops"})
	if _, err := dan.RequestEnd(e.ctx, r3, "cancel"); err != nil {
		t.Fatal(err)
	}
	r4 := e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "again"})
	e.review(alice, r4, "APPROVE")
	e.review(bob, r4, "APPROVE")
	if _, err := e.admin.RequestEnd(e.ctx, r4, "revoke"); err != nil {
		t.Fatal(err)
	}

	want := []struct{ event, id, actor string }{
		{"request.created", r1, "dan"}, {"request.reviewed", r1, "alice"}, {"request.approved", r1, "bob"}, {"request.started", r1, ""},
		{"request.created", r2, "dan"}, {"request.denied", r2, "carol"},
		{"request.created", r3, "dan"}, {"request.cancelled", r3, "dan"},
		{"request.created", r4, "dan"}, {"request.reviewed", r4, "alice"}, {"request.approved", r4, "bob"}, {"request.started", r4, ""},
		{"request.revoked", r4, resource.BootstrapAdmin},
	}
	hits := rc.wait(t, "/json", len(want), 10*time.Second)
	rc.settle(t, "/json", len(want), 300*time.Millisecond)
	ids := map[string]bool{}
	for i, h := range hits {
		p := payload(t, h)
		w := want[i]
		if p.Event != w.event || p.Request == nil || p.Request.ID != w.id || p.Actor != w.actor {
			t.Fatalf("delivery %d: %s %v actor %q; want %s %s actor %q\n%s", i, p.Event, p.Request, p.Actor, w.event, w.id, w.actor, dump(hits))
		}
		if p.ID == "" || ids[p.ID] || h.header.Get(notify.HeaderDelivery) != p.ID || h.header.Get(notify.HeaderEvent) != p.Event {
			t.Fatalf("delivery %d: id %q (headers %v)", i, p.ID, h.header)
		}
		ids[p.ID] = true
		ts := h.header.Get(notify.HeaderTimestamp)
		if sig := h.header.Get(notify.HeaderSignature); sig == "" || sig != notify.Sign([]byte("s3cret"), ts, h.body) {
			t.Fatalf("delivery %d: signature %q over timestamp %q does not verify", i, sig, ts)
		}
		if h.header.Get("Authorization") != "Bearer abc" || h.header.Get("Content-Type") != "application/json" {
			t.Fatalf("delivery %d: headers %v", i, h.header)
		}
		if p.Request.User != "dan" || p.Summary == "" || p.Time.IsZero() || time.Since(p.Time) > time.Minute {
			t.Fatalf("delivery %d: %+v", i, p)
		}
	}
	// Payload details.
	created, reviewed, approved, started := payload(t, hits[0]), payload(t, hits[1]), payload(t, hits[2]), payload(t, hits[3])
	if r := created.Request; r.State != "PENDING" || strings.Join(r.Roles, ",") != "staging-admin" || r.Reason != "deploy 7" || r.Duration != "1h" || len(r.Reviews) != 0 {
		t.Fatalf("created: %+v", r)
	}
	if reviewed.Review == nil || reviewed.Review.Author != "alice" || reviewed.Review.Decision != "APPROVE" || reviewed.Request.State != "PENDING" || len(reviewed.Request.Reviews) != 1 {
		t.Fatalf("reviewed: %+v %+v", reviewed.Review, reviewed.Request)
	}
	if r := approved.Request; approved.Review == nil || approved.Review.Author != "bob" || r.State != "APPROVED" || r.Start == nil || r.End == nil ||
		r.End.Sub(*r.Start) != time.Hour || len(r.Reviews) != 2 {
		t.Fatalf("approved: %+v %+v", approved.Review, r)
	}
	if !started.Time.Equal(*approved.Request.Start) || started.Request.State != "APPROVED" {
		t.Fatalf("started at %v, the window starts at %v", started.Time, approved.Request.Start)
	}
	if r := payload(t, hits[4]).Request; len(r.Roles) != 0 || len(r.Resources) != 1 || r.Resources[0].PermissionSet != "AdministratorAccess" || r.Resources[0].Account != "Staging" || r.Resources[0].AccountID != "058264527036" || !strings.HasSuffix(r.Resources[0].PermissionSetARN, "ps-aaaaaaaaaaaaaaaa") {
		t.Fatalf("resource request: %+v", r)
	}
	if d := payload(t, hits[5]); d.Request.State != "DENIED" || d.Review == nil || d.Review.Decision != "DENY" {
		t.Fatalf("denied: %+v", d)
	}
	if c := payload(t, hits[7]); c.Request.State != "CANCELLED" {
		t.Fatalf("cancelled: %+v", c.Request)
	}
	// The generic form's keys are the documented ones.
	var raw map[string]any
	json.Unmarshal(hits[2].body, &raw)
	for _, k := range []string{"id", "event", "time", "actor", "summary", "request", "review"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("approved payload lacks %q: %s", k, hits[2].body)
		}
	}
	for _, k := range []string{"id", "user", "roles", "resources", "state", "reason", "start", "end", "created", "reviews"} {
		if _, ok := raw["request"].(map[string]any)[k]; !ok {
			t.Fatalf("approved payload's request lacks %q: %s", k, hits[2].body)
		}
	}

	// Slack: the same events, one readable line each, nothing but text.
	slack := rc.wait(t, "/slack", len(want), 5*time.Second)
	wantText := []string{
		`dan requests staging-admin for 1h, reason "deploy 7" (request ` + r1 + `)`,
		`alice reviewed dan's request for staging-admin: approve, saying "ok by me"; still pending`,
		`bob approved dan's request for staging-admin, ` + approved.Request.Start.Format("2006-01-02 15:04:05 UTC") + ` to ` + approved.Request.End.Format("2006-01-02 15:04:05 UTC"),
		`dan's access to staging-admin has started, until`,
		`dan requests AdministratorAccess on Staging`,
		`carol denied dan's request for AdministratorAccess on Staging, saying "ok by me"`,
		`dan requests staging-admin`,
		`dan cancelled dan's request for staging-admin`,
		`dan requests staging-admin`, `alice reviewed`, `bob approved`, `has started`,
		`warden:admin revoked dan's access to staging-admin (request ` + r4 + `)`,
	}
	for i, h := range slack {
		var m map[string]any
		if err := json.Unmarshal(h.body, &m); err != nil || len(m) != 1 {
			t.Fatalf("slack body %d is not {\"text\": ...}: %s", i, h.body)
		}
		text, _ := m["text"].(string)
		if !strings.Contains(text, wantText[i]) || strings.Contains(text, "\n") {
			t.Fatalf("slack text %d: %q\nwant it to contain %q", i, text, wantText[i])
		}
		if h.header.Get(notify.HeaderSignature) != "" {
			t.Fatalf("slack delivery signed without a secret")
		}
	}
}

// An approved window's start and end are notified at their instants, and not before (the store
// still says APPROVED at the end); reading the request afterwards writes EXPIRED and sends nothing
// more.
func TestStartedAndExpiredAtTheInstant(t *testing.T) {
	e := newEnv(t, time.Hour)
	clk := e.fakeClock()
	rc := newReceiver(t)
	start(t, e.store, notify.Config{Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w",
		Events: []string{"request.started", "request.expired"}}}}, notify.WithClock(clk))
	dan, alice, bob := e.as("dan"), e.as("alice"), e.as("bob")
	from := clk.Now().Add(2 * time.Hour)
	id := e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}, Duration: "3h", Start: &from})
	e.review(alice, id, "APPROVE")
	e.review(bob, id, "APPROVE")
	// The notifier waits for the window to open, having made nothing of it yet.
	waitTimer(t, clk, from, "the window's start")
	if sent, outbox := e.queued(); len(sent) != 0 || outbox != 0 || len(rc.got("/w")) != 0 {
		t.Fatalf("notified before the window: %v, %d in the outbox, %d delivered", sent, outbox, len(rc.got("/w")))
	}
	clk.Set(from)
	hits := rc.wait(t, "/w", 1, 10*time.Second)
	waitTimer(t, clk, from.Add(3*time.Hour), "the window's end")
	if len(rc.got("/w")) != 1 {
		t.Fatalf("expired before the window's end: %s", dump(rc.got("/w")))
	}
	clk.Set(from.Add(3 * time.Hour))
	hits = rc.wait(t, "/w", 2, 10*time.Second)
	for i, want := range []struct {
		event string
		at    time.Time
	}{{"request.started", from}, {"request.expired", from.Add(3 * time.Hour)}} {
		p := payload(t, hits[i])
		if p.Event != want.event || !p.Time.Equal(want.at) {
			t.Fatalf("delivery %d: %s at %v, want %s at %v", i, p.Event, p.Time, want.event, want.at)
		}
	}
	if p := payload(t, hits[1]); p.Request.State != "EXPIRED" || p.Cause != "window_ended" {
		t.Fatalf("expired: state %s cause %s", p.Request.State, p.Cause)
	}
	o, err := e.store.Get(e.ctx, resource.KindAccessRequest, id)
	if err != nil || o.Spec.(*resource.AccessRequestSpec).State != "APPROVED" {
		t.Fatalf("the store should still say APPROVED: %v", err)
	}
	if r, err := dan.Request(e.ctx, id); err != nil || r.Spec.(*resource.AccessRequestSpec).State != "EXPIRED" {
		t.Fatalf("reading the request: %v", err)
	}
	rc.settle(t, "/w", 2, 500*time.Millisecond)
}

// A pending request that outlives the pending TTL is notified expired at that instant, and not
// before.
func TestPendingRequestExpiresUnreviewed(t *testing.T) {
	e := newEnv(t, time.Hour)
	clk := e.fakeClock()
	rc := newReceiver(t)
	start(t, e.store, notify.Config{Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w", Format: "json"}}},
		notify.WithPendingTTL(time.Hour), notify.WithClock(clk))
	id := e.request(e.as("dan"), server.RequestCreate{Roles: []string{"staging-admin"}})
	o, _ := e.store.Get(e.ctx, resource.KindAccessRequest, id)
	at := o.Metadata.CreatedAt.Add(time.Hour)
	rc.wait(t, "/w", 1, 10*time.Second) // created
	waitTimer(t, clk, at, "the pending TTL's end")
	if sent, _ := e.queued(); len(sent) != 0 || len(rc.got("/w")) != 1 {
		t.Fatalf("expired before the TTL ended: %v %s", sent, dump(rc.got("/w")))
	}
	clk.Set(at)
	hits := rc.wait(t, "/w", 2, 10*time.Second)
	p := payload(t, hits[1])
	if p.Event != "request.expired" || p.Cause != "not_reviewed" || p.Request.State != "EXPIRED" || !p.Time.Equal(at) {
		t.Fatalf("got %s (%s) at %v, want request.expired at %v", p.Event, p.Cause, p.Time, at)
	}
	e.as("dan").Request(e.ctx, id) // writes EXPIRED: nothing more
	rc.settle(t, "/w", 2, 300*time.Millisecond)
}

// 500 then 500 then 200: three attempts, each after its pause (1, then 2 times the base) and not
// before, with one delivery id. 429 waits for its Retry-After. 400 is not retried, and the
// deliveries after it go on. A dead receiver is given up after max_attempts.
func TestRetries(t *testing.T) {
	e := newEnv(t, time.Hour)
	clk := e.fakeClock()
	rc := newReceiver(t)
	rc.setAnswer(func(n int, r *http.Request) (int, http.Header) {
		switch r.URL.Path {
		case "/flaky":
			if n <= 2 {
				return 500, nil
			}
		case "/busy":
			if n == 1 {
				return 429, http.Header{"Retry-After": {"7"}}
			}
		case "/picky":
			if n == 1 {
				return 400, nil
			}
		case "/dead":
			return 503, nil
		}
		return 200, nil
	})
	const base = time.Minute
	for _, path := range []string{"/flaky", "/busy", "/picky", "/dead"} {
		t.Run(path[1:], func(t *testing.T) {
			rc.mu.Lock()
			rc.hits = nil
			rc.mu.Unlock()
			var logs logBuffer
			stop := start(t, e.store, notify.Config{MaxAttempts: 3, Webhooks: []notify.Webhook{{Name: path, URL: rc.url + path, Events: []string{"request.created"}}}},
				notify.WithRetryBase(base, time.Hour), notify.WithClock(clk), notify.WithLogger(logs.logger()))
			defer stop()
			// retryAt waits until the delivery's retry waits for the clock to pass d more, checks
			// that nothing was sent again meanwhile, and moves the clock there.
			retryAt := func(d time.Duration, sent int) {
				t.Helper()
				waitTimer(t, clk, clk.Now().Add(d), "the retry")
				if got := len(rc.got(path)); got != sent {
					t.Fatalf("%d attempts before the pause of %v ended, want %d", got, d, sent)
				}
				clk.Advance(d)
			}
			dan := e.as("dan")
			e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}})
			switch path {
			case "/flaky":
				rc.wait(t, path, 1, 5*time.Second)
				retryAt(base, 1)
				rc.wait(t, path, 2, 5*time.Second)
				retryAt(2*base, 2)
				hits := rc.wait(t, path, 3, 5*time.Second)
				logs.waitLog(t, "notification delivered", 1, 5*time.Second)
				for i := 1; i < 3; i++ {
					if hits[i].header.Get(notify.HeaderDelivery) != hits[0].header.Get(notify.HeaderDelivery) {
						t.Fatalf("a retry changed the delivery id")
					}
				}
			case "/busy":
				rc.wait(t, path, 1, 5*time.Second)
				retryAt(7*time.Second, 1) // as asked, not the base
				rc.wait(t, path, 2, 5*time.Second)
				logs.waitLog(t, "notification delivered", 1, 5*time.Second)
			case "/picky":
				rc.wait(t, path, 1, 5*time.Second)
				logs.waitLog(t, "not retried", 1, 5*time.Second)
				e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}})
				hits := rc.wait(t, path, 2, 5*time.Second)
				if hits[0].header.Get(notify.HeaderDelivery) == hits[1].header.Get(notify.HeaderDelivery) {
					t.Fatalf("the refused delivery was retried")
				}
				logs.waitLog(t, "notification delivered", 1, 5*time.Second)
			case "/dead":
				rc.wait(t, path, 1, 5*time.Second)
				retryAt(base, 1)
				rc.wait(t, path, 2, 5*time.Second)
				retryAt(2*base, 2)
				rc.wait(t, path, 3, 5*time.Second)
				logs.waitLog(t, "notification given up", 1, 5*time.Second)
			}
			// The delivery is over: however far the clock goes, nothing is sent again.
			n := len(rc.got(path))
			clk.Advance(24 * time.Hour)
			rc.settle(t, path, n, 200*time.Millisecond)
		})
	}
}

// Stopped and started again, the notifier sends what happened meanwhile and nothing it had
// delivered; what it had not managed to deliver goes after the restart, with the same id.
func TestRestartNeitherResendsNorForgets(t *testing.T) {
	e := newEnv(t, time.Hour)
	rc := newReceiver(t)
	cfg := notify.Config{Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w"}, {Name: "down", URL: rc.url + "/down"}}}
	rc.setAnswer(func(n int, r *http.Request) (int, http.Header) {
		if r.URL.Path == "/down" {
			return 503, nil
		}
		return 200, nil
	})
	dan, alice, bob := e.as("dan"), e.as("alice"), e.as("bob")
	stop := start(t, e.store, cfg, notify.WithRetryBase(50*time.Millisecond, 50*time.Millisecond))
	r1 := e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "one"})
	rc.wait(t, "/w", 1, 5*time.Second)
	rc.wait(t, "/down", 2, 5*time.Second) // failing, being retried
	stop()
	downID := rc.got("/down")[0].header.Get(notify.HeaderDelivery)

	// While it is stopped.
	r2 := e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "two"})
	e.review(alice, r1, "APPROVE")
	e.review(bob, r1, "APPROVE")
	rc.setAnswer(nil)
	before := len(rc.got("/down"))

	start(t, e.store, cfg)
	want := []struct{ event, id string }{{"request.created", r1}, {"request.created", r2}, {"request.reviewed", r1}, {"request.approved", r1}, {"request.started", r1}}
	hits := rc.wait(t, "/w", len(want), 5*time.Second)
	rc.settle(t, "/w", len(want), 500*time.Millisecond)
	for i, w := range want {
		if p := payload(t, hits[i]); p.Event != w.event || p.Request.ID != w.id {
			t.Fatalf("delivery %d: %s %s, want %s %s\n%s", i, p.Event, p.Request.ID, w.event, w.id, dump(hits))
		}
	}
	down := rc.got("/down")[before:]
	if len(down) != len(want) || down[0].header.Get(notify.HeaderDelivery) != downID {
		t.Fatalf("after the restart /down got %d deliveries, the first %q (want %d, the first %q)\n%s", len(down), down[0].header.Get(notify.HeaderDelivery), len(want), downID, dump(down))
	}
}

// A window that began and ended while the notifier was stopped, the request read meanwhile (so
// the store says EXPIRED): after the restart, approved, started and expired, in order.
func TestWindowWhileStopped(t *testing.T) {
	e := newEnv(t, time.Hour)
	clk := e.fakeClock()
	rc := newReceiver(t)
	cfg := notify.Config{Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w", Events: []string{"request.approved", "request.started", "request.expired"}}}}
	stop := start(t, e.store, cfg, notify.WithClock(clk))
	stop()
	dan, alice, bob := e.as("dan"), e.as("alice"), e.as("bob")
	from := clk.Now().Add(time.Hour)
	id := e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}, Duration: "1h", Start: &from})
	e.review(alice, id, "APPROVE")
	e.review(bob, id, "APPROVE")
	clk.Set(from.Add(time.Hour + time.Second))
	if r, err := dan.Request(e.ctx, id); err != nil || r.Spec.(*resource.AccessRequestSpec).State != "EXPIRED" {
		t.Fatalf("the request should be EXPIRED: %v", err)
	}
	start(t, e.store, cfg, notify.WithClock(clk))
	hits := rc.wait(t, "/w", 3, 5*time.Second)
	rc.settle(t, "/w", 3, 300*time.Millisecond)
	for i, want := range []string{"request.approved", "request.started", "request.expired"} {
		if p := payload(t, hits[i]); p.Event != want {
			t.Fatalf("delivery %d: %s, want %s\n%s", i, p.Event, want, dump(hits))
		}
	}
	if p := payload(t, hits[1]); !p.Time.Equal(from) {
		t.Fatalf("started at %v, want %v", p.Time, from)
	}
	if p := payload(t, hits[2]); !p.Time.Equal(from.Add(time.Hour)) {
		t.Fatalf("expired at %v, want %v", p.Time, from.Add(time.Hour))
	}
}

// An access list whose review date has passed is notified once per date: not again while it stays
// overdue, nor after a restart; once reviewed it is quiet until its next date passes.
func TestListReviewOverdueOnce(t *testing.T) {
	e := newEnv(t, time.Hour)
	rc := newReceiver(t)
	cfg := notify.Config{Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w"}, {Name: "s", URL: rc.url + "/s", Format: "slack"}}}
	stop := start(t, e.store, cfg, notify.WithPeriod(50*time.Millisecond))
	e.apply(`
kind: access_list
version: v1
metadata: {name: ops}
spec: {title: Ops, owners: [alice, bob], audit: {recurrence: {frequency: 3}, next_audit_date: "2020-01-01"}}
---
kind: access_list
version: v1
metadata: {name: quiet}
spec: {title: Quiet, owners: [alice], audit: {recurrence: {frequency: 3}, next_audit_date: "2999-01-01"}}
`)
	hits := rc.wait(t, "/w", 1, 5*time.Second)
	rc.settle(t, "/w", 1, 500*time.Millisecond)
	p := payload(t, hits[0])
	if p.Event != "list.review_overdue" || p.List == nil || p.List.Name != "ops" || p.List.Title != "Ops" ||
		strings.Join(p.List.Owners, ",") != "alice,bob" || p.List.NextAuditDate.Format("2006-01-02") != "2020-01-01" || p.Request != nil {
		t.Fatalf("overdue: %s", hits[0].body)
	}
	if s := string(rc.wait(t, "/s", 1, time.Second)[0].body); !strings.Contains(s, `Access list \"Ops\" (ops) is overdue for review since 2020-01-01; owners: alice, bob`) {
		t.Fatalf("slack: %s", s)
	}
	stop()
	stop = start(t, e.store, cfg, notify.WithPeriod(50*time.Millisecond))
	rc.settle(t, "/w", 1, 300*time.Millisecond)

	if _, err := e.as("alice").ListReview(e.ctx, "ops", server.ListReview{Notes: "all fine"}); err != nil {
		t.Fatal(err)
	}
	rc.settle(t, "/w", 1, 300*time.Millisecond)
	// Overdue again (a date set by hand): notified again, for that date.
	o, _ := e.admin.Get(e.ctx, resource.KindAccessList, "ops")
	d := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	o.Spec.(*resource.AccessListSpec).Audit.NextAuditDate = &d
	if _, err := e.admin.Update(e.ctx, o); err != nil {
		t.Fatal(err)
	}
	hits = rc.wait(t, "/w", 2, 5*time.Second)
	if p := payload(t, hits[1]); p.List == nil || !p.List.NextAuditDate.Equal(d) {
		t.Fatalf("second overdue: %s", hits[1].body)
	}
	rc.settle(t, "/w", 2, 300*time.Millisecond)
	stop()
}

// Of two notifiers on one store, only the lease holder sends.
func TestOneReplicaNotifies(t *testing.T) {
	e := newEnv(t, time.Hour)
	rc := newReceiver(t)
	cfg := notify.Config{Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w"}}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, holder := range []string{"a", "b"} {
		n, err := notify.New(e.store, cfg, notify.WithLeaseTTL(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Init(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); n.RunLeader(ctx, holder) }()
	}
	defer func() { cancel(); wg.Wait() }()
	dan := e.as("dan")
	for range 3 {
		e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}})
	}
	rc.wait(t, "/w", 3, 5*time.Second)
	rc.settle(t, "/w", 3, 500*time.Millisecond)
}

// Two replicas on one PostgreSQL database, each with a notifier: one sends, once; when it stops,
// the other takes over from where it was.
func TestReplicasOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	open := func() store.Store {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	e := newEnvOn(t, open(), time.Hour)
	other := open()
	t.Cleanup(func() { other.Close() })
	rc := newReceiver(t)
	cfg := notify.Config{Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w"}}}
	var logs logBuffer
	run := func(st store.Store, holder string) context.CancelFunc {
		n, err := notify.New(st, cfg, notify.WithLeaseTTL(time.Second), notify.WithLogger(logs.logger()))
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Init(ctx); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { n.RunLeader(rctx, holder); close(done) }()
		stop := func() { cancel(); <-done }
		t.Cleanup(stop)
		return stop
	}
	stopA := run(e.store, "a")
	logs.waitLog(t, `this replica sends them" holder=a `, 1, 10*time.Second) // a leads
	run(other, "b")
	dan, alice, bob := e.as("dan"), e.as("alice"), e.as("bob")
	r1 := e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}})
	r2 := e.request(dan, server.RequestCreate{Roles: []string{"staging-admin"}})
	rc.wait(t, "/w", 2, 5*time.Second)
	rc.settle(t, "/w", 2, 300*time.Millisecond)
	stopA() // b takes over, from a's progress
	e.review(alice, r1, "APPROVE")
	e.review(bob, r1, "APPROVE")
	hits := rc.wait(t, "/w", 5, 10*time.Second)
	rc.settle(t, "/w", 5, 500*time.Millisecond)
	var got []string
	for _, h := range hits {
		p := payload(t, h)
		got = append(got, p.Event+" "+p.Request.ID)
	}
	want := []string{"request.created " + r1, "request.created " + r2, "request.reviewed " + r1, "request.approved " + r1, "request.started " + r1}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("deliveries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	ok := notify.Webhook{Name: "a", URL: "https://hooks.example.com/x"}
	for _, c := range []struct {
		cfg  notify.Config
		want string
	}{
		{notify.Config{Webhooks: []notify.Webhook{{URL: "https://x.example.com"}}}, "notifications.webhooks[0].name: required"},
		{notify.Config{Webhooks: []notify.Webhook{ok, ok}}, `notifications.webhooks[1].name: "a" is the name of another webhook`},
		{notify.Config{Webhooks: []notify.Webhook{{Name: "a", URL: "ftp://x.example.com/secret"}}}, `notifications.webhooks[0].url: "ftp://x.example.com/…" is not an http:// or https:// URL`},
		{notify.Config{Webhooks: []notify.Webhook{{Name: "a", URL: "hooks.example.com"}}}, `notifications.webhooks[0].url:`},
		{notify.Config{Webhooks: []notify.Webhook{{Name: "a", URL: ok.URL, Format: "teams"}}}, `notifications.webhooks[0].format: "teams" is not json or slack`},
		{notify.Config{Webhooks: []notify.Webhook{{Name: "a", URL: ok.URL, Events: []string{"request.created", "request.approve"}}}}, `notifications.webhooks[0].events[1]: "request.approve" is not an event`},
		{notify.Config{Webhooks: []notify.Webhook{{Name: "a", URL: ok.URL, Headers: map[string]string{"Bad Header": "x"}}}}, `notifications.webhooks[0].headers: "Bad Header" is not a header name`},
		{notify.Config{Timeout: -time.Second, Webhooks: []notify.Webhook{ok}}, "notifications.timeout:"},
		{notify.Config{Webhooks: []notify.Webhook{{Name: "a", URL: ok.URL, SecretEnv: "NOPE_UNSET"}}}, "notifications.webhooks[0].secret_env: the environment variable NOPE_UNSET is not set"},
		{notify.Config{Webhooks: []notify.Webhook{{Name: "a", URL: ok.URL, HeadersEnv: map[string]string{"Authorization": "NOPE_UNSET"}}}}, "notifications.webhooks[0].headers_env.Authorization: the environment variable NOPE_UNSET is not set"},
		{notify.Config{}, "notifications.webhooks: none configured"},
	} {
		_, err := notify.New(nil, c.cfg, notify.WithGetenv(func(string) string { return "" }))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.cfg, err, c.want)
		}
	}
	if _, err := notify.New(nil, notify.Config{Webhooks: []notify.Webhook{ok}}); err != nil {
		t.Fatal(err)
	}
}

// logBuffer collects a logger's output; safe for the notifier's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitLog waits until the log holds n lines containing s.
func (b *logBuffer) waitLog(t *testing.T, s string, n int, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(b.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("after %v the log has %d lines with %q, want %d:\n%s", timeout, strings.Count(b.String(), s), s, n, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return b.String()
}

// A webhook's URL is often its credential (Slack's is), and its headers and signing secret are
// credentials: failed deliveries, to a receiver answering 503 and to one that is gone, are logged
// with the webhook's name, scheme and host and what went wrong, and none of those.
func TestFailedDeliveriesLogNoSecret(t *testing.T) {
	e := newEnv(t, time.Hour)
	rc := newReceiver(t)
	rc.setAnswer(func(int, *http.Request) (int, http.Header) { return http.StatusServiceUnavailable, nil })
	gone := httptest.NewServer(http.NotFoundHandler())
	goneHost := strings.TrimPrefix(gone.URL, "http://")
	gone.Close()
	secrets := map[string]string{
		"path": "T0PATHSECRETb1", "query": "Q0QUERYSECRETx9", "header": "H0HEADERSECRET", "header from env": "E0ENVSECRETzz",
		"signing secret": "S0SIGNINGSECRET", "user": "U0USERSECRET", "password": "P0PASSWORDSECRET",
	}
	env := map[string]string{"HOOK_AUTH": "Bearer " + secrets["header from env"], "HOOK_SECRET": secrets["signing secret"]}
	cfg := notify.Config{MaxAttempts: 2, Webhooks: []notify.Webhook{
		{Name: "chat", Format: "slack", URL: rc.url + "/services/" + secrets["path"] + "?token=" + secrets["query"],
			Headers: map[string]string{"X-Api-Key": secrets["header"]}, HeadersEnv: map[string]string{"Authorization": "HOOK_AUTH"}, SecretEnv: "HOOK_SECRET"},
		{Name: "siem", URL: "http://" + secrets["user"] + ":" + secrets["password"] + "@" + goneHost + "/hooks/" + secrets["path"] + "?key=" + secrets["query"],
			Headers: map[string]string{"X-Api-Key": secrets["header"]}, HeadersEnv: map[string]string{"Authorization": "HOOK_AUTH"}, SecretEnv: "HOOK_SECRET"},
	}}
	var logs logBuffer
	start(t, e.store, cfg, notify.WithGetenv(func(k string) string { return env[k] }), notify.WithRetryBase(10*time.Millisecond, 10*time.Millisecond),
		notify.WithLogger(logs.logger()))
	e.request(e.as("dan"), server.RequestCreate{Roles: []string{"staging-admin"}})

	out := logs.waitLog(t, "notification given up", 2, 10*time.Second)
	for what, secret := range secrets {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows the webhook's %s:\n%s", what, out)
		}
	}
	// What the log does say: which webhook, where, and what went wrong.
	for _, want := range []string{"webhook=chat", "webhook=siem", rc.url, "http://" + goneHost, "HTTP 503", "connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not say %q:\n%s", want, out)
		}
	}
	if n := len(rc.got("/services/" + secrets["path"])); n != 2 {
		t.Errorf("the receiver got %d attempts, want 2", n)
	}
}

// The notifier follows no redirect: a 307 would re-send the body, its signature and the webhook's
// headers to another host. The 3xx is a failed attempt, retried like a 5xx, then given up, and the
// log shows where it pointed by scheme and host only.
func TestRedirectsAreNotFollowed(t *testing.T) {
	e := newEnv(t, time.Hour)
	elsewhere := newReceiver(t)
	rc := newReceiver(t)
	rc.setAnswer(func(int, *http.Request) (int, http.Header) {
		return http.StatusTemporaryRedirect, http.Header{"Location": {elsewhere.url + "/collect/L0CATIONSECRET?k=L0CQUERY"}}
	})
	var logs logBuffer
	start(t, e.store, notify.Config{MaxAttempts: 3, Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w", SecretEnv: "HOOK_SECRET",
		Headers: map[string]string{"Authorization": "Bearer s3cret-token"}}}},
		notify.WithGetenv(func(string) string { return "signing-secret" }), notify.WithRetryBase(10*time.Millisecond, 10*time.Millisecond),
		notify.WithLogger(logs.logger()))
	e.request(e.as("dan"), server.RequestCreate{Roles: []string{"staging-admin"}})

	rc.wait(t, "/w", 3, 5*time.Second)
	out := logs.waitLog(t, "notification given up", 1, 5*time.Second)
	rc.settle(t, "/w", 3, 100*time.Millisecond)
	elsewhere.mu.Lock()
	stolen := len(elsewhere.hits)
	elsewhere.mu.Unlock()
	if stolen != 0 {
		t.Fatalf("the redirect was followed: the other host got %d requests", stolen)
	}
	if !strings.Contains(out, "HTTP 307") || !strings.Contains(out, elsewhere.url) {
		t.Errorf("the log does not say where the redirect pointed:\n%s", out)
	}
	for _, secret := range []string{"/collect", "L0CATIONSECRET", "L0CQUERY", "s3cret-token", "signing-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q:\n%s", secret, out)
		}
	}
}

// With the web UI's address (ui.base_url), a request's events link to its page and a list's to
// the list's, in the json form's url and on the slack form's second line.
func TestEventsLinkToTheWebUI(t *testing.T) {
	e := newEnv(t, time.Hour)
	rc := newReceiver(t)
	cfg := notify.Config{Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w"}, {Name: "s", URL: rc.url + "/s", Format: "slack"}}}
	start(t, e.store, cfg, notify.WithPeriod(50*time.Millisecond), notify.WithBaseURL("https://warden.example.com/"))
	id := e.request(e.as("dan"), server.RequestCreate{Roles: []string{"staging-admin"}, Reason: "deploy 7", Duration: "1h"})
	p := payload(t, rc.wait(t, "/w", 1, 5*time.Second)[0])
	if want := "https://warden.example.com/requests/" + id; p.Event != notify.RequestCreated || p.URL != want {
		t.Fatalf("request.created links to %q, want %q", p.URL, want)
	}
	if s := string(rc.wait(t, "/s", 1, 5*time.Second)[0].body); !strings.HasSuffix(s, `\nhttps://warden.example.com/requests/`+id+`"}`) {
		t.Fatalf("slack: %s", s)
	}
	e.apply(`
kind: access_list
version: v1
metadata: {name: ops}
spec: {title: Ops, owners: [alice], audit: {recurrence: {frequency: 3}, next_audit_date: "2020-01-01"}}
`)
	hits := rc.wait(t, "/w", 2, 5*time.Second)
	if p := payload(t, hits[1]); p.List == nil || p.URL != "https://warden.example.com/lists/ops" {
		t.Fatalf("list.review_overdue: %s", hits[1].body)
	}
	// Without a base URL: no link (the other tests).
	if got := notify.Link("", &notify.Event{Request: &notify.Request{ID: "x"}}); got != "" {
		t.Fatalf("a link without a base: %q", got)
	}
}

// Identity Center's SCIM token is notified 30 days before it expires (or at once, when it was set
// with less left), once per token, not again after a restart; the notification never holds it.
func TestSCIMTokenExpiringNotifiedOnce(t *testing.T) {
	e := newEnv(t, time.Hour)
	rc := newReceiver(t)
	cfg := notify.Config{Webhooks: []notify.Webhook{{Name: "w", URL: rc.url + "/w"}, {Name: "s", URL: rc.url + "/s", Format: "slack"}}}
	stop := start(t, e.store, cfg, notify.WithPeriod(50*time.Millisecond))
	now := time.Now().UTC()
	o := &resource.Object{Kind: resource.KindIDCSCIMToken, Version: resource.Version, Metadata: resource.Metadata{Name: resource.IDCSCIMTokenName},
		Spec: &resource.IDCSCIMTokenSpec{Tokens: []resource.IDCSCIMToken{
			{ID: "sha256:aaaaaaaaaaaa", Sealed: "v1.secret-sealed", SetAt: now, Expires: now.Add(20 * 24 * time.Hour)},
			{ID: "sha256:bbbbbbbbbbbb", Sealed: "v1.other-sealed", SetAt: now, Expires: now.Add(300 * 24 * time.Hour)},
		}}}
	if err := e.store.Create(e.ctx, o); err != nil {
		t.Fatal(err)
	}
	hits := rc.wait(t, "/w", 1, 5*time.Second)
	rc.settle(t, "/w", 1, 500*time.Millisecond)
	p := payload(t, hits[0])
	if p.Event != notify.SCIMTokenExpiring || p.Token == nil || p.Token.ID != "sha256:aaaaaaaaaaaa" || !p.Token.Expires.Equal(now.Add(20*24*time.Hour)) {
		t.Fatalf("expiring: %s", hits[0].body)
	}
	if strings.Contains(string(hits[0].body), "sealed") {
		t.Fatalf("the notification carries the sealed token: %s", hits[0].body)
	}
	if s := string(rc.wait(t, "/s", 1, time.Second)[0].body); !strings.Contains(s, "SCIM token sha256:aaaaaaaaaaaa") || !strings.Contains(s, "warden integration scim-token set") {
		t.Fatalf("slack: %s", s)
	}
	stop()
	stop = start(t, e.store, cfg, notify.WithPeriod(50*time.Millisecond))
	rc.settle(t, "/w", 1, 300*time.Millisecond)
	stop()
}
