package main

// The web UI's governance journeys in headless Chromium against `warden demo`: an owner adds a
// member and runs a list's periodic review; a reviewer finds a request in the review inbox with
// its requester's context, and approves it there.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/web/browsertest"
)

// scheduleReview gives an imported list a review schedule (every 3 months, on the 15th), due
// yesterday, through the CLI, as an administrator would.
func (e *uiEnv) scheduleReview(list string) {
	e.t.Helper()
	var o resource.Object
	if err := json.Unmarshal([]byte(mustRun(e.t, e.cli, "", "get", "access_list", list, "-o", "json")), &o); err != nil {
		e.t.Fatalf("reading %s: %v", list, err)
	}
	due := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Hour)
	o.Spec.(*resource.AccessListSpec).Audit = &resource.Audit{Recurrence: resource.Recurrence{Frequency: 3, DayOfMonth: "15"}, NextAuditDate: &due}
	o.Status = nil
	b, err := json.Marshal(&o)
	if err != nil {
		e.t.Fatal(err)
	}
	mustRun(e.t, e.cli, string(b), "apply", "-f", "-")
}

// alice, who owns the imported lists, opens Access lists, opens BillingAdmin, adds kemi with an
// expiry and a reason (listed as active, with both), then reviews the list: removes jon, writes
// notes, confirms; the list's page shows the review in its history, jon gone, the next date moved.
func TestUIListJourney(t *testing.T) {
	e := newUIEnv(t)
	const list = "billingadmin"
	e.scheduleReview(list)
	b := e.browser()
	e.signIn(b, "alice@example.com")

	b.Navigate(e.base + "/lists")
	b.WaitVisible("#lists")
	e.page(b, "access lists")
	if got := b.Text("#list-" + list); !strings.Contains(got, "overdue") || !strings.Contains(got, "every 3 months") {
		t.Errorf("the lists page's row of %s: %q", list, got)
	}
	// The overdue list comes first.
	if first := b.Text("#lists tbody tr:first-child th"); !strings.Contains(first, "BillingAdmin") {
		t.Errorf("the first list is %q, not the overdue BillingAdmin", first)
	}
	b.ClickAndWait(`#list-` + list + ` th a`)
	b.WaitVisible("#members")
	e.page(b, "a list's page")
	if got := b.Text("#members"); !strings.Contains(got, "jon@example.com") || !strings.Contains(got, "ines@example.com") {
		t.Fatalf("BillingAdmin's members: %q", got)
	}
	if got := b.Text("#grants"); !strings.Contains(got, "Billing") {
		t.Errorf("BillingAdmin's grants: %q", got)
	}

	// Add kemi, with an expiry and a reason. A wrong expiry first: the error beside the field.
	b.Fill("#member", "kemi@example.com")
	b.Fill("#reason", "covers the quarter close")
	b.Eval(`document.querySelector("#expires").value = "2001-01-01T10:00"`)
	b.Submit("#add-member")
	b.WaitVisible("#expires-error")
	e.page(b, "the add-member form with an error")
	if got := b.Text("#expires-error"); !strings.Contains(got, "not in the future") {
		t.Errorf("the expiry's error: %q", got)
	}
	if got := b.Value("#member"); got != "kemi@example.com" {
		t.Errorf("the refused form lost the member: %q", got)
	}
	exp := time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Minute)
	b.Eval(`document.querySelector("#expires").value = "` + exp.Format("2006-01-02T15:04") + `"`)
	b.Submit("#add-member")
	b.WaitVisible("#flash")
	if got := b.Text("#flash"); !strings.Contains(got, "Added kemi@example.com") {
		t.Errorf("after adding kemi: %q", got)
	}
	row := b.Text(`tr[data-member="kemi@example.com"]`)
	if !strings.Contains(row, "active") || !strings.Contains(row, "covers the quarter close") || !strings.Contains(row, "by alice@example.com") {
		t.Errorf("kemi's row: %q", row)
	}
	if dt, _ := b.Attr(`tr[data-member="kemi@example.com"] td.expires time`, "datetime"); dt != exp.Format(time.RFC3339) {
		t.Errorf("kemi's expiry %q, want %s", dt, exp.Format(time.RFC3339))
	}
	e.page(b, "a list's page after an add")

	// The periodic review: remove jon, notes, confirm.
	b.ClickAndWait("#start-review")
	b.WaitVisible("#review-wizard")
	e.page(b, "review step 1")
	b.Click(`input[name=remove][value="jon@example.com"]`)
	b.ClickAndWait("#to-notes")
	b.WaitVisible("#notes")
	e.page(b, "review step 2")
	b.Fill("#notes", "jon moved to the platform team; the others still close the books")
	b.ClickAndWait("#to-confirm")
	b.WaitVisible("#summary")
	e.page(b, "review step 3")
	if got := b.Text("#summary-remove"); got != "jon@example.com" {
		t.Errorf("the summary removes %q", got)
	}
	b.ClickAndWait("#submit-review")
	b.WaitVisible("#history")
	e.page(b, "a list's page after its review")
	if got := b.Text("#flash"); !strings.Contains(got, "Review recorded; removed jon@example.com") {
		t.Errorf("after the review: %q", got)
	}
	hist := b.Text("#history")
	next := access.NextAudit(resource.Recurrence{Frequency: 3, DayOfMonth: "15"}, time.Now())
	if !strings.Contains(hist, "reviewed by alice@example.com") || !strings.Contains(hist, "jon moved to the platform team") || !strings.Contains(hist, "Removed: jon@example.com") {
		t.Errorf("the review history: %q", hist)
	}
	if dt, _ := b.Attr("#review-due time", "datetime"); dt != next.Format(time.RFC3339) {
		t.Errorf("the next review is due %q, want %s", dt, next.Format(time.RFC3339))
	}
	if strings.Contains(b.Text("#review-due"), "overdue") {
		t.Errorf("still overdue: %q", b.Text("#review-due"))
	}
	if n := b.Count(`tr[data-member="jon@example.com"]`); n != 0 {
		t.Errorf("jon is still listed (%d)", n)
	}
	if got := mustRun(t, e.cli, "", "list", "members", "ls", list); strings.Contains(got, "jon@example.com") || !strings.Contains(got, "kemi@example.com") {
		t.Errorf("the API's members of %s after the review:\n%s", list, got)
	}

	// On a phone, 360 px wide: the lists, a list and the review fit; nothing scrolls sideways.
	phone := e.browser(browsertest.WithWindowSize(360, 740))
	e.signIn(phone, "alice@example.com")
	for _, path := range []string{"/lists", "/lists/" + list, "/lists/" + list + "/review", "/reviews"} {
		phone.Navigate(e.base + path)
		phone.WaitVisible("main h1")
		if wide := string(phone.Eval(`document.documentElement.scrollWidth > window.innerWidth`)); wide != "false" {
			t.Errorf("%s scrolls sideways at 360 px (%s px wide)", path, phone.Eval(`document.documentElement.scrollWidth`))
		}
		e.page(phone, path+" at 360 px")
	}
}

// dan asks for AdministratorAccess on Production (through the API, with a token); bob, of DevOps,
// finds it in his review inbox with dan's context (his lists, his recent requests), and approves
// it there; it leaves the inbox.
func TestUIReviewInbox(t *testing.T) {
	e := newUIEnv(t)
	danTok := strings.TrimSpace(mustRun(t, e.cli, "", "token", "create", "--user", demoRequester, "--ttl", "1h"))
	req := strings.TrimSpace(mustRun(t, append(e.cli, "WARDEN_TOKEN="+danTok), "", "request", "create", "--roles", demoTarget, "--duration", "1h", "--reason", "inbox journey hotfix", "-o", "name"))

	b := e.browser()
	e.signInTOTP(b, demoReviewer)
	b.Navigate(e.base + "/reviews")
	row := "#review-" + req
	b.WaitVisible(row)
	e.page(b, "the review inbox")
	got := b.Text(row)
	for _, want := range []string{demoRequester + " asks for " + demoTarget, "inbox journey hotfix", "0 of 1 needed", "Waits for review"} {
		if !strings.Contains(got, want) {
			t.Errorf("the inbox row lacks %q: %q", want, got)
		}
	}
	// dan's context, behind its summary.
	b.Click(row + " details.context summary")
	ctx := b.Text(row + " details.context")
	for _, want := range []string{"Member of the access list developers", demoRequestRole, "Recent requests", "PENDING"} {
		if !strings.Contains(ctx, want) {
			t.Errorf("dan's context lacks %q: %q", want, ctx)
		}
	}
	e.page(b, "the review inbox with a requester's context open")
	if href, _ := b.Attr(row+" h2 a", "href"); href != "/requests/"+req {
		t.Errorf("the row links to %q", href)
	}

	// Approving posts to the request page's review route.
	if !strings.Contains(mustRun(t, e.cli, "", "request", "ls"), req) {
		t.Fatal("the request is not listed")
	}
	b.Fill("#reason-"+req, "ok for the hotfix")
	b.ClickAndWait(row + ` button[value="APPROVE"]`)
	b.WaitVisible("#reviews-title")
	e.page(b, "the review inbox after an approval")
	if n := b.Count(row); n != 0 {
		t.Errorf("the approved request is still in the inbox")
	}
	if got := mustRun(t, e.cli, "", "get", "request", req, "-o", "json"); !strings.Contains(got, `"APPROVED"`) || !strings.Contains(got, "ok for the hotfix") {
		t.Errorf("the request after bob's approval:\n%s", got)
	}
}

// approveRouteBuilt says whether POST /requests/{id}/review exists (part A's route): a POST
