package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Notifications end to end: warden serve with a notifications section; a request created and
// approved with the CLI reaches a webhook receiver, in the json form (signed) and the slack form.
func TestNotificationsEndToEnd(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]map[string]any{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		if r.Header.Get("X-Warden-Signature") != "" {
			m["signed"] = true
		}
		mu.Lock()
		got[r.URL.Path] = append(got[r.URL.Path], m)
		mu.Unlock()
	}))
	defer recv.Close()
	received := func(path string) []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got[path])
	}

	dir := t.TempDir()
	cfg := writeFile(t, t.TempDir(), "warden.yaml", `
auth: {step_up_exempt_tokens: true} # the minted tokens approve, as automation's would
notifications:
  webhooks:
    - {name: generic, url: "`+recv.URL+`/json", secret_env: HOOK_SECRET}
    - {name: chat, url: "`+recv.URL+`/slack", format: slack, events: [request.approved]}
`)
	env := cleanEnv(t, "HOOK_SECRET=abc")
	srv := startServe(t, env, "--listen", "127.0.0.1:0", "--data-dir", dir, "--config", cfg)
	if !strings.Contains(srv.log(), `msg="notifications are on" webhooks=2`) {
		t.Fatalf("serve does not say notifications are on:\n%s", srv.log())
	}
	admin := append(slices.Clone(env), "WARDEN_ADDR="+srv.addr, "WARDEN_DATA_DIR="+dir)
	mustRun(t, admin, `
kind: role
version: v1
metadata: {name: staging-admin}
spec: {allow: {account_assignments: [{account: "058264527036", permission_set: AdministratorAccess}]}}
---
kind: role
version: v1
metadata: {name: developer}
spec: {allow: {request: {roles: [staging-admin], max_duration: 1h}}}
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
spec: {roles: [lead]}
`, "create", "-f", "-")
	as := func(user string) []string {
		tok := strings.TrimSpace(mustRun(t, admin, "", "token", "create", "--user", user, "--ttl", "1h"))
		return append(slices.Clone(env), "WARDEN_ADDR="+srv.addr, "WARDEN_TOKEN="+tok)
	}
	dan, alice := as("dan"), as("alice")
	out := mustRun(t, dan, "", "request", "create", "--roles", "staging-admin", "--reason", "incident 9", "--duration", "30m")
	id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(out)
	if id == "" {
		t.Fatalf("request create printed:\n%s", out)
	}
	mustRun(t, alice, "", "request", "review", id, "--approve", "--reason", "go ahead")

	waitFor(t, func() bool { return len(received("/json")) >= 3 && len(received("/slack")) >= 1 }, "the notifications")
	var events []string
	for _, m := range received("/json") {
		req, _ := m["request"].(map[string]any)
		if req["id"] != id || req["user"] != "dan" || m["signed"] != true {
			t.Fatalf("json delivery: %v", m)
		}
		events = append(events, m["event"].(string))
	}
	if strings.Join(events, ",") != "request.created,request.approved,request.started" {
		t.Fatalf("json events: %v", events)
	}
	if text, _ := received("/slack")[0]["text"].(string); !strings.Contains(text, "alice approved dan's request for staging-admin") ||
		!strings.Contains(text, `saying "go ahead"`) {
		t.Fatalf("slack text: %q", text)
	}
	// Deliveries to one webhook go in order: once a second approval has reached slack, anything
	// else of the first request's would have reached it before.
	out = mustRun(t, dan, "", "request", "create", "--roles", "staging-admin", "--reason", "incident 10", "--duration", "30m")
	id2 := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(out)
	mustRun(t, alice, "", "request", "review", id2, "--approve", "--reason", "again")
	waitFor(t, func() bool { return len(received("/slack")) >= 2 }, "the second approval on slack")
	if got := received("/slack"); len(got) != 2 || !strings.Contains(got[1]["text"].(string), id2) {
		t.Fatalf("slack got %d deliveries, the second %v; it asked for request.approved only", len(got), got[len(got)-1])
	}
	// The notifier's progress is internal: not served by the resource API.
	if r := run(t, admin, "", "get", "notify_state"); r.code == 0 || !strings.Contains(r.err, `unknown kind "notify_state"`) {
		t.Fatalf("warden get notify_state: exit %d %s%s", r.code, r.out, r.err)
	}
	tok, _ := os.ReadFile(filepath.Join(dir, "admin.token"))
	req, _ := http.NewRequest("GET", srv.addr+"/v1/notify_state/notifier", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	if resp, err := http.DefaultClient.Do(req); err != nil || (resp.StatusCode != 404 && resp.StatusCode != 400) {
		t.Fatalf("GET /v1/notify_state/notifier: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	srv.stop(t)

	// A bad section stops serve at start, naming the field.
	bad := writeFile(t, t.TempDir(), "bad.yaml", "notifications:\n  webhooks: [{name: a, url: \"https://x.example.com\", events: [request.done]}]\n")
	if r := run(t, cleanEnv(t), "", "serve", "--listen", "127.0.0.1:0", "--config", bad); r.code == 0 ||
		!strings.Contains(r.err, `notifications.webhooks[0].events[0]: "request.done" is not an event`) {
		t.Fatalf("bad notifications section: exit %d %s", r.code, r.err)
	}
}
