package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/testenv"
	"github.com/wardenhq/warden/internal/web/browsertest"
)

// The SAML trust end to end, in headless Chromium, through `warden demo` (warden's IdP trusted by
// the simulated Identity Center, each given the other's metadata): the access portal's start URL
// sends the browser to warden's sign-in, with a password and a TOTP code (dan enrols both from an
// invitation first); once signed in, warden's signed Response is posted to the
// simulator's ACS, which validates it as Identity Center does, and the portal lists exactly the
// person's assignments (their own and their groups', read from the simulator's state here). After
// an access request is approved the new account and role appear; after it is cancelled they are
// gone.
func TestDemoPortalInChromium(t *testing.T) {
	browsertest.Require(t)
	dataDir := t.TempDir()
	env := cleanEnv(t)
	d := startCmd(t, env, "demo", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data-dir", dataDir)
	waitFor(t, func() bool { return tourEndRE.MatchString(d.stdout.String()) }, "the demo's instructions")
	out := d.stdout.String()
	m := regexp.MustCompile(`open (http://\S+/start) in a browser`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo prints no access portal start URL:\n%s", out)
	}
	startURL := m[1]
	simURL := strings.TrimSuffix(startURL, "/start")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the demo's log:\n%s", d.log())
		}
	})

	cli := append(env, "WARDEN_ADDR="+d.addr, "WARDEN_DATA_DIR="+dataDir)
	b := browsertest.New(t, browsertest.WithTimeout(3*time.Minute))
	// dan enrols a password and an authenticator app (TOTP) from an invitation: he signs in with both.
	password, key, used := enrolTOTP(t, b, cli, demoRequester)

	b.Navigate(startURL)
	// Anonymous: the portal sent the browser to warden (its SSO URL), which asks for a sign-in.
	b.WaitVisible("#password")
	if u := b.URL(); !strings.HasPrefix(u, d.addr+"/login") {
		t.Fatalf("the start URL led to %s, not warden's sign-in", u)
	}
	b.Fill("#user", demoRequester)
	b.Fill("#password", password)
	b.Submit("#password")
	b.WaitVisible("#code")
	b.Fill("#code", totp(t, key, used+1)) // the enrolment's code is used; the next step's is accepted
	b.Submit("#code")
	b.WaitVisible("#accounts, #no-accounts")
	if u := b.URL(); u != startURL {
		t.Fatalf("signed in, the browser is at %s, not the portal", u)
	}
	if got := b.Text("#user"); got != demoRequester {
		t.Errorf("the portal is signed in as %q", got)
	}
	want := expectedPortal(t, simURL, demoRequester)
	if len(want) == 0 {
		t.Fatal("dan has no assignment in the sample organisation: nothing to check")
	}
	if got := portalList(t, b); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the portal lists %v, want dan's assignments %v", got, want)
	}
	if want[demoProductionID] != nil && strings.Contains(strings.Join(want[demoProductionID], ","), demoPermissionSet) {
		t.Fatalf("dan already has %s on Production: the request below proves nothing", demoPermissionSet)
	}

	// Approved access appears in the portal; ended access goes.
	danTok := strings.TrimSpace(mustRun(t, cli, "", "token", "create", "--user", demoRequester, "--ttl", "1h"))
	bobTok := strings.TrimSpace(mustRun(t, cli, "", "token", "create", "--user", demoReviewer, "--ttl", "1h"))
	req := strings.TrimSpace(mustRun(t, append(cli, "WARDEN_TOKEN="+danTok), "", "request", "create", "--roles", demoTarget, "--duration", "1h", "--reason", "portal test", "-o", "name"))
	mustRun(t, append(cli, "WARDEN_TOKEN="+bobTok), "", "request", "review", req, "--approve", "--reason", "ok")
	waitForPortal(t, b, startURL, func(got map[string][]string) bool {
		return strings.Contains(strings.Join(got[demoProductionID], ","), demoPermissionSet)
	}, "the approved access on Production in the portal")
	if got, want := portalList(t, b), expectedPortal(t, simURL, demoRequester); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the approval the portal lists %v, the simulator holds %v", got, want)
	}
	mustRun(t, append(cli, "WARDEN_TOKEN="+danTok), "", "request", "cancel", req)
	waitForPortal(t, b, startURL, func(got map[string][]string) bool {
		return !strings.Contains(strings.Join(got[demoProductionID], ","), demoPermissionSet)
	}, "the ended access gone from the portal")

	// Sign-out ends the portal's session: the start URL goes through warden again (SP-initiated),
	// which still has dan's session and asserts at once.
	b.Submit(`form[action="/start/signout"] button`)
	b.WaitFor(`document.body && document.body.innerText.includes("signed out")`)
	b.Navigate(startURL)
	b.WaitVisible("#accounts, #no-accounts")

	// IdP-initiated, as the aws-identity-center app's "Log in" does: an unsolicited Response, taken.
	b.Submit(`form[action="/start/signout"] button`)
	b.WaitFor(`document.body && document.body.innerText.includes("signed out")`)
	b.Navigate(d.addr + "/saml/idp-initiated/aws-identity-center")
	b.WaitVisible("#accounts, #no-accounts")
	if u := b.URL(); u != startURL {
		t.Errorf("IdP-initiated sign-on ended at %s, not the portal", u)
	}
	b.CheckConsole()
}

// portalList reads the portal page: account id -> permission sets.
func portalList(t *testing.T, b *browsertest.Browser) map[string][]string {
	t.Helper()
	raw := b.Eval(`JSON.stringify(Object.fromEntries([...document.querySelectorAll("li.account")].map(a =>
		[a.dataset.accountId, [...a.querySelectorAll("li.permission-set")].map(p => p.dataset.permissionSet)])))`)
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("reading the portal: %v (%s)", err, raw)
	}
	out := map[string][]string{}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("reading the portal: %v (%s)", err, s)
	}
	return out
}

// waitForPortal reloads the portal until cond holds of its list.
func waitForPortal(t *testing.T, b *browsertest.Browser, startURL string, cond func(map[string][]string) bool, what string) {
	t.Helper()
	var got map[string][]string
	testenv.Eventually(t, 90*time.Second, what+" in the portal", func() bool {
		b.Navigate(startURL)
		b.WaitVisible("#accounts, #no-accounts")
		got = portalList(t, b)
		return cond(got)
	})
}

// expectedPortal computes, from the simulator's state (/_sim/state), what the portal must list for
// userName: the account assignments of the user and of the user's groups, by account, the
// permission sets' names sorted.
func expectedPortal(t *testing.T, simURL, userName string) map[string][]string {
	t.Helper()
	res, err := http.Get(simURL + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct {
		Users map[string]struct {
			UserId, UserName string
		}
		Memberships map[string]struct {
			GroupId  string
			MemberId struct{ UserId string }
		}
		Assignments map[string]struct {
			AccountId, PermissionSetArn, PrincipalType, PrincipalId string
		}
		PermissionSets map[string]struct{ Name string }
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	var uid string
	for _, u := range st.Users {
		if u.UserName == userName {
			uid = u.UserId
		}
	}
	principals := map[string]string{uid: "USER"}
	for _, m := range st.Memberships {
		if m.MemberId.UserId == uid {
			principals[m.GroupId] = "GROUP"
		}
	}
	sets := map[string]map[string]bool{}
	for _, a := range st.Assignments {
		if principals[a.PrincipalId] != a.PrincipalType {
			continue
		}
		if sets[a.AccountId] == nil {
			sets[a.AccountId] = map[string]bool{}
		}
		sets[a.AccountId][st.PermissionSets[a.PermissionSetArn].Name] = true
	}
	out := map[string][]string{}
	for acct, names := range sets {
		for n := range names {
			out[acct] = append(out[acct], n)
		}
		sort.Strings(out[acct])
	}
	return out
}
