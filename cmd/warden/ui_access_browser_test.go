package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/testenv"
	"github.com/wardenhq/warden/internal/web/browsertest"
)

// holdsOnProduction says whether the simulator gives dan AdministratorAccess on Production (by
// himself or through a group).
func holdsOnProduction(t *testing.T, simURL string) bool {
	t.Helper()
	return strings.Contains(strings.Join(expectedPortal(t, simURL, demoRequester)[demoProductionID], ","), demoPermissionSet)
}

// The requester's journey in Chromium against the demo: dan finds AdministratorAccess on
// Production in the catalog, puts it in his cart and checks out with a reason and a duration; his
// request page says PENDING, 0 of 1 approvals. bob opens the request page's link in his own
// browser (a fresh second factor) and approves. dan's page, without a reload, shows the
// assignment become granted in Identity Center; My access shows it with a countdown; dan ends it
// early and the simulator no longer holds it.
func TestUIRequestJourney(t *testing.T) {
	e := newUIEnv(t)
	if e.sim == "" {
		t.Fatal("the demo printed no simulator address")
	}
	if holdsOnProduction(t, e.sim) {
		t.Fatal("dan already has AdministratorAccess on Production: the journey would prove nothing")
	}
	b := e.browser()
	e.signIn(b, demoRequester)
	e.page(b, "My access")
	if got := b.Text("#active"); !strings.Contains(got, "None.") {
		t.Fatalf("dan has temporary access before asking: %q", got)
	}
	if got := b.Text("#standing"); !strings.Contains(got, demoRequestRole) || !strings.Contains(got, "member of") {
		t.Fatalf("My access shows no standing access through Developers: %q", got)
	}
	// dan holds assignments already: the AWS access portal's tile signs him in through warden.
	if href, _ := b.Attr("#app-aws-identity-center", "href"); href != e.base+"/saml/idp-initiated/aws-identity-center" {
		t.Fatalf("the aws-identity-center tile links to %q", href)
	}

	// The catalog: search, tick, add to the cart, check out.
	b.Navigate(e.base + "/request")
	b.WaitVisible("#q")
	e.page(b, "the catalog")
	b.Fill("#q", "production")
	b.Submit("#q")
	pick := `[id="pick-role:` + demoTarget + `"]`
	b.WaitVisible(pick)
	e.page(b, "the catalog, searched")
	b.Click(pick)
	b.ClickAndWait("#add")
	b.WaitVisible("#checkout")
	if got := b.Text("#cart"); !strings.Contains(got, demoTarget) {
		t.Fatalf("the cart holds %q", got)
	}
	e.page(b, "the catalog with a cart")
	b.ClickAndWait("#checkout")
	b.WaitVisible("#reason")
	e.page(b, "the checkout")
	if got := b.Text("#duration-hint"); !strings.Contains(got, "At most 2h") {
		t.Errorf("the checkout's duration hint: %q", got)
	}
	b.Fill("#reason", "hotfix 42 from the browser")
	b.Eval(`document.querySelector("#duration").value = "1h30m0s"`)
	b.ClickAndWait("#send")
	b.WaitVisible("#state")
	e.page(b, "the new request")
	if got := b.Text("#state"); got != "PENDING" {
		t.Fatalf("the new request is %q", got)
	}
	if got := b.Text("#threshold"); !strings.Contains(got, "0 of 1 approvals") {
		t.Fatalf("threshold: %q", got)
	}
	u, err := url.Parse(b.URL())
	if err != nil || !strings.HasPrefix(u.Path, "/requests/") {
		t.Fatalf("after checkout the browser is at %s", b.URL())
	}
	link := e.base + u.Path // the deep link notifications carry

	// bob approves from the link, with a fresh second factor.
	bob := e.browser()
	e.signInTOTP(bob, demoReviewer)
	bob.Navigate(link)
	bob.WaitVisible("#approve")
	e.page(bob, "the request page, for its reviewer")
	if got := bob.Text("#requester"); got != demoRequester {
		t.Fatalf("bob sees requester %q", got)
	}
	bob.Fill("#review-reason", "go ahead")
	bob.ClickAndWait("#approve")
	bob.WaitVisible("#flash")
	if got := bob.Text("#state"); got != "APPROVED" {
		t.Fatalf("after bob's approval: %q", got)
	}
	e.page(bob, "the approved request, for its reviewer")

	// dan's page follows by itself: approved, then the assignment granted.
	b.WaitFor(`(document.querySelector("#grants .grant-state") || {}).textContent === "granted"`)
	if got := b.Text("#state"); got != "APPROVED" {
		t.Fatalf("dan's page says %q", got)
	}
	if got := b.Text("#threshold"); !strings.Contains(got, "1 of 1 approvals") {
		t.Fatalf("threshold after the approval: %q", got)
	}
	if n := b.Count("#request-live[data-live]"); n != 0 {
		t.Errorf("the page still refreshes once settled")
	}
	e.page(b, "the granted request")
	testenv.Eventually(t, time.Minute, "the assignment in the simulator", func() bool { return holdsOnProduction(t, e.sim) })

	// My access: the grant, counting down; End now.
	b.Navigate(e.base + "/")
	b.WaitVisible("#active time[data-countdown]")
	if got := b.Text("#active"); !strings.Contains(got, demoTarget) || !strings.Contains(got, "left") {
		t.Fatalf("My access's temporary access: %q", got)
	}
	e.page(b, "My access with a grant")
	b.Eval(`window.confirm = function () { return true; }`) // the End now button asks first
	b.ClickAndWait("#active button[type=submit]")
	b.WaitVisible("#flash")
	if got := b.Text("#flash"); !strings.HasPrefix(got, "Ended: "+demoTarget) {
		t.Fatalf("after End now: %q", got)
	}
	if got := b.Text("#ended"); !strings.Contains(got, demoTarget) || !strings.Contains(got, "CANCELLED") {
		t.Fatalf("recently ended: %q", got)
	}
	e.page(b, "My access after End now")
	testenv.Eventually(t, 2*time.Minute, "the assignment to leave the simulator", func() bool { return !holdsOnProduction(t, e.sim) })

	// On a phone, 360 px wide: every page of the journey fits, nothing scrolls sideways.
	phone := e.browser(browsertest.WithWindowSize(360, 740))
	e.signIn(phone, demoRequester)
	for _, path := range []string{"/", "/request?q=production", "/request/checkout?item=role:" + demoTarget, u.Path, "/requests"} {
		phone.Navigate(e.base + path)
		phone.WaitVisible("main h1")
		if wide := string(phone.Eval(`document.documentElement.scrollWidth > window.innerWidth`)); wide != "false" {
			t.Errorf("%s scrolls sideways at 360 px (%s px wide)", path, phone.Eval(`document.documentElement.scrollWidth`))
		}
		e.page(phone, path+" at 360 px")
	}
}
