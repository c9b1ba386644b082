package server_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
	"github.com/wardenhq/warden/internal/store"
)

// governOrg is added to base (users alice and bob, list ops owned by alice with member bob): dan
// and erin may ask for staging-admin, the members of leads (bob) review it; auditors has a review
// schedule and is owned by alice.
const governOrg = `
---
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
metadata: {name: developer}
spec: {allow: {request: {roles: [staging-admin], max_duration: 4h, reason: required, thresholds: [{approve: 2}]}}}
---
kind: role
version: v1
metadata: {name: lead}
spec: {allow: {review_requests: {roles: [staging-admin]}}}
---
kind: user
version: v1
metadata: {name: bob}
spec: {email: bob@example.com, roles: [developer]}
---
kind: user
version: v1
metadata: {name: dan}
spec: {roles: [developer]}
---
kind: user
version: v1
metadata: {name: erin}
spec: {roles: [developer]}
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
spec: {list: leads, member: bob}
---
kind: access_list
version: v1
metadata: {name: auditors}
spec: {title: Auditors, owners: [alice], grants: {roles: [staging-admin]}, audit: {recurrence: {frequency: 3, day_of_month: 15}, next_audit_date: 2026-01-15T00:00:00Z}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: auditors, member: bob, reason: on call}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: auditors, member: dan}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: auditors, member: leads, member_kind: list}
`

func newGovernEnv(t *testing.T) *signinEnv {
	t.Helper()
	e := newSigninEnv(t, "required")
	e.apply(governOrg)
	return e
}

// signedIn is a browser of user's, signed in with password and TOTP (a fresh second factor).
func (e *signinEnv) signedIn(user string) *browser {
	e.t.Helper()
	b := e.browser()
	pw := "correct horse battery staple for the govern tests"
	key, _ := e.enrol(b, e.invite(user), pw)
	if p := e.signIn(b, user, pw, "/account"); p.status != http.StatusSeeOther || p.location != "/login/second-factor" {
		e.t.Fatalf("%s's password: %d %q", user, p.status, p.location)
	}
	e.clk.Advance(30 * time.Second) // the enrolment used this step's code
	if p := e.secondFactor(b, totpCode(e.t, key, e.clk.Now())); p.status != http.StatusSeeOther {
		e.t.Fatalf("%s's second factor: %d\n%s", user, p.status, p.body)
	}
	return b
}

// mustPage gets path and fails unless it answers 200.
func (b *browser) mustPage(path string) page {
	b.t.Helper()
	p := b.get(path)
	if p.status != http.StatusOK {
		b.t.Fatalf("GET %s: %d\n%s", path, p.status, p.body)
	}
	return p
}

// text is a page's visible text, roughly: tags dropped, entities decoded, spaces collapsed.
func (p page) text() string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(p.body, " "))), " ")
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// The inbox shows the pending requests its viewer may review, oldest first, never their own
// (the API's to_review rule), with the requester's context; someone who reviews nothing sees none.
func TestUIReviewInbox(t *testing.T) {
	e := newGovernEnv(t)
	ask := func(user, reason string) string {
		t.Helper()
		got, err := e.as(user).RequestCreate(e.ctx, server.RequestCreate{Roles: []string{"staging-admin"}, Reason: reason, Duration: "1h"})
		if err != nil {
			t.Fatal(err)
		}
		return got.Request.Metadata.Name
	}
	first := ask("dan", "deploy the first fix")
	// Request names are UUIDv7s, increasing within a process (the uuid package's clock sequence):
	// asked later sorts later.
	own := ask("bob", "bob's own request")
	second := ask("erin", "deploy the second fix")

	bob := e.signedIn("bob")
	p := bob.mustPage("/reviews")
	body := p.body
	i1, i2 := strings.Index(body, `id="review-`+first+`"`), strings.Index(body, `id="review-`+second+`"`)
	if i1 < 0 || i2 < 0 || i1 > i2 {
		t.Fatalf("bob's inbox lacks dan's and erin's requests, oldest first (%d, %d):\n%s", i1, i2, p.text())
	}
	if strings.Contains(body, own) || strings.Contains(body, "bob's own request") {
		t.Fatalf("bob's inbox offers his own request:\n%s", p.text())
	}
	txt := p.text()
	for _, want := range []string{"dan asks for staging-admin", "deploy the first fix", "0 of 2 needed",
		"Member of the access list auditors", "Role developer", "Role staging-admin: AdministratorAccess on Staging", "Recent requests", `href="/requests/` + first + `"`} {
		if !strings.Contains(txt, want) && !strings.Contains(body, want) {
			t.Errorf("bob's inbox lacks %q:\n%s", want, txt)
		}
	}
	// The review forms go to the request's review route, coming back here; bob's factor is fresh.
	if !strings.Contains(body, `action="/requests/`+first+`/review"`) || !strings.Contains(body, `name="back" value="/reviews"`) ||
		!strings.Contains(body, `value="APPROVE"`) || strings.Contains(body, "Confirm your second factor to approve") {
		t.Errorf("bob's review forms:\n%s", body)
	}
	// Filters: requester (the store's index), free text.
	if p := bob.mustPage("/reviews?requester=erin"); strings.Contains(p.body, first) || !strings.Contains(p.body, second) {
		t.Errorf("filtered by erin:\n%s", p.text())
	}
	if p := bob.mustPage("/reviews?q=first+fix"); !strings.Contains(p.body, first) || strings.Contains(p.body, second) {
		t.Errorf("filtered by text:\n%s", p.text())
	}
	if p := bob.mustPage("/reviews?what=nothing-like-it"); strings.Contains(p.body, first) || !strings.Contains(p.text(), "No pending request you may review matches") {
		t.Errorf("filtered by a role nobody asked for:\n%s", p.text())
	}
	// A stale second factor: the approve button gives way to the step-up link.
	e.clk.Advance(20 * time.Minute) // past the step-up window (10m), within the session's idle hour
	e.srv.SetClock(e.clk.Now)
	p = bob.mustPage("/reviews")
	if strings.Contains(p.body, `value="APPROVE"`) || !strings.Contains(p.body, `href="/login/step-up?next=%2freviews"`) || !strings.Contains(p.body, `value="DENY"`) {
		t.Errorf("bob's inbox with a stale second factor:\n%s", p.body)
	}

	// Pages of 20, oldest first: 22 more of erin's fill the first page after dan's and erin's.
	var more []string
	for i := 0; i < 22; i++ {
		more = append(more, ask("erin", fmt.Sprintf("batch %02d", i)))
	}
	ids := regexp.MustCompile(`<article class="card review" id="review-([^"]+)"`)
	p = bob.mustPage("/reviews")
	var got []string
	for _, m := range ids.FindAllStringSubmatch(p.body, -1) {
		got = append(got, m[1])
	}
	want := append([]string{first, second}, more[:18]...)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("the first page: %v, want %v", got, want)
	}
	next := regexp.MustCompile(`href="(/reviews\?[^"]*after=[^"]+)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatalf("no next page:\n%s", p.text())
	}
	p = bob.mustPage(html.UnescapeString(next[1]))
	got = nil
	for _, m := range ids.FindAllStringSubmatch(p.body, -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != strings.Join(more[18:], ",") || strings.Contains(p.body, `rel="next"`) {
		t.Fatalf("the second page: %v, want %v", got, more[18:])
	}

	// carol and dan review nothing: their inboxes are empty.
	for _, who := range []string{"carol", "dan"} {
		p := e.signedIn(who).mustPage("/reviews")
		if strings.Contains(p.body, first) || strings.Contains(p.body, second) || !strings.Contains(p.text(), "Nothing waits for your review") {
			t.Errorf("%s's inbox:\n%s", who, p.text())
		}
	}
}

// A list's page: owners, grants, members with their state; its owner adds (errors beside the
// field, nothing written) and removes; someone else sees it without the forms and is refused.
func TestUIListPageAndMembers(t *testing.T) {
	e := newGovernEnv(t)
	alice, carol := e.signedIn("alice"), e.signedIn("carol")

	p := carol.mustPage("/lists/auditors")
	txt := p.text()
	for _, want := range []string{"Auditors", "alice", "staging-admin", "AdministratorAccess on Staging (058264527036)",
		"bob active", "on call", "list leads", "every 3 months, on the 15th", "overdue", "not been reviewed yet"} {
		if !strings.Contains(txt, want) {
			t.Errorf("carol's view of auditors lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(p.body, `id="add-member"`) || strings.Contains(p.body, "/remove") || strings.Contains(p.body, "Review this list") {
		t.Errorf("carol, no owner, is offered the forms:\n%s", p.body)
	}
	tok := csrfOf(t, p)
	for _, post := range []struct {
		path string
		form url.Values
	}{
		{"/lists/auditors/members", url.Values{"csrf": {tok}, "member": {"carol"}, "reason": {"me"}}},
		{"/lists/auditors/members/bob/remove", url.Values{"csrf": {tok}}},
		{"/lists/auditors/review", url.Values{"csrf": {tok}, "action": {"submit"}, "notes": {"fine"}}},
	} {
		if p := carol.post(post.path, post.form); p.status != http.StatusForbidden || !strings.Contains(p.text(), "only the owners") {
			t.Errorf("carol posting %s: %d\n%s", post.path, p.status, p.text())
		}
	}
	if p := carol.get("/lists/auditors/review"); p.status != http.StatusForbidden {
		t.Errorf("carol opening the review: %d", p.status)
	}
	members := func() []string {
		objs, err := e.store.List(e.ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexList, "auditors")})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range objs {
			out = append(out, o.Spec.(*resource.AccessListMemberSpec).Member)
		}
		return out
	}
	if got := strings.Join(members(), ","); got != "bob,dan,leads" {
		t.Fatalf("members after carol's attempts: %s", got)
	}

	// CSRF: alice's form without the token, or with carol's, is refused.
	p = alice.mustPage("/lists/auditors")
	if !strings.Contains(p.body, `id="add-member"`) || !strings.Contains(p.body, `action="/lists/auditors/members/bob/remove"`) || !strings.Contains(p.body, "Review this list") {
		t.Fatalf("alice, the owner, lacks the forms:\n%s", p.body)
	}
	tok = csrfOf(t, p)
	for _, bad := range []string{"", csrfOf(t, carol.get("/lists"))} {
		if p := alice.post("/lists/auditors/members", url.Values{"csrf": {bad}, "member": {"carol"}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "CSRF") {
			t.Errorf("add with csrf %q: %d", bad, p.status)
		}
		if p := alice.post("/lists/auditors/members/bob/remove", url.Values{"csrf": {bad}}); p.status != http.StatusForbidden {
			t.Errorf("remove with csrf %q: %d", bad, p.status)
		}
	}

	// Field errors beside their field, the values kept, nothing written.
	for _, c := range []struct {
		form  url.Values
		field string
		msg   string
	}{
		{url.Values{"member": {"nobody"}, "reason": {"typo"}}, "member", "nobody"},
		{url.Values{"member": {"carol"}, "expires": {"2001-01-01T10:00"}}, "expires", "is not in the future"},
		{url.Values{"member": {"carol"}, "expires": {"next tuesday"}}, "expires", "is not a date"},
		{url.Values{"member": {"bob"}}, "member", "already a member"},
		{url.Values{"member": {"carol"}, "reason": {strings.Repeat("x", 1200)}}, "reason", "longer than"},
	} {
		c.form.Set("csrf", tok)
		p := alice.post("/lists/auditors/members", c.form)
		m := regexp.MustCompile(`id="` + c.field + `-error"[^>]*>([^<]*)<`).FindStringSubmatch(p.body)
		if p.status != http.StatusBadRequest || m == nil || !strings.Contains(html.UnescapeString(m[1]), c.msg) {
			t.Errorf("adding %v: %d, want %q beside %s:\n%s", c.form, p.status, c.msg, c.field, p.body)
			continue
		}
		if !strings.Contains(p.body, `aria-describedby="`+c.field+`-error"`) && !strings.Contains(p.body, c.field+`-error"`) {
			t.Errorf("the %s field is not tied to its error", c.field)
		}
		if !strings.Contains(p.body, `value="`+html.EscapeString(c.form.Get("member"))+`"`) {
			t.Errorf("the form lost the member given (%v)", c.form)
		}
	}
	if got := strings.Join(members(), ","); got != "bob,dan,leads" {
		t.Fatalf("members after refused adds: %s", got)
	}

	// Added with an expiry and a reason: listed as active with both.
	exp := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Minute)
	p = alice.post("/lists/auditors/members", url.Values{"csrf": {tok}, "member": {"carol"}, "expires": {exp.Format("2006-01-02T15:04")}, "reason": {"covers the audit"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/lists/auditors?flash=") {
		t.Fatalf("adding carol: %d %q\n%s", p.status, p.location, p.body)
	}
	p = alice.mustPage(p.location)
	if txt := p.text(); !strings.Contains(txt, "Added carol to auditors") || !strings.Contains(txt, "carol active") ||
		!strings.Contains(txt, exp.Format("2006-01-02 15:04 UTC")) || !strings.Contains(txt, "covers the audit") || !strings.Contains(txt, "by alice") {
		t.Errorf("auditors after adding carol:\n%s", txt)
	}
	// A member who lacks what the list requires is ineligible, and the page says why.
	e.apply(`
kind: access_list
version: v1
metadata: {name: oncall}
spec: {title: On call, owners: [alice], membership_requires: {roles: [lead]}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: oncall, member: dan}
`)
	if txt := alice.mustPage("/lists/oncall").text(); !strings.Contains(txt, "dan ineligible") || !strings.Contains(txt, "lead") || !strings.Contains(txt, "Members must hold role lead") {
		t.Errorf("oncall's ineligible member:\n%s", txt)
	}
	// A nested list: shown as a list, linked; a cycle is refused beside the member.
	if p := alice.post("/lists/auditors/members", url.Values{"csrf": {tok}, "member": {"ops"}, "kind": {"list"}}); p.status != http.StatusSeeOther {
		t.Fatalf("nesting ops: %d\n%s", p.status, p.text())
	}
	if p := alice.mustPage("/lists/auditors"); !strings.Contains(p.body, `list <a href="/lists/ops">ops</a>`) {
		t.Errorf("ops is not shown as a nested list:\n%s", p.body)
	}
	p = alice.post("/lists/leads/members", url.Values{"csrf": {tok}, "member": {"auditors"}, "kind": {"list"}})
	if m := regexp.MustCompile(`id="member-error"[^>]*>([^<]*)<`).FindStringSubmatch(p.body); p.status != http.StatusBadRequest || m == nil || !strings.Contains(html.UnescapeString(m[1]), "nested in itself") {
		t.Errorf("a cycle (leads in auditors in leads): %d\n%s", p.status, p.text())
	}
	if _, err := e.store.Get(e.ctx, resource.KindAccessListMember, "leads/list:auditors"); err == nil {
		t.Error("the cycle was written")
	}
	if p := alice.post("/lists/auditors/members/ops/remove", url.Values{"csrf": {tok}, "kind": {"list"}}); p.status != http.StatusSeeOther {
		t.Fatalf("removing the nested ops: %d\n%s", p.status, p.text())
	}
	// Removed.
	p = alice.post("/lists/auditors/members/dan/remove", url.Values{"csrf": {tok}, "kind": {"user"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("removing dan: %d\n%s", p.status, p.body)
	}
	if got := strings.Join(members(), ","); got != "bob,carol,leads" {
		t.Fatalf("members after removing dan: %s", got)
	}
	// An expired member is shown so.
	e.srv.SetClock(func() time.Time { return exp.Add(time.Minute) })
	if txt := alice.mustPage("/lists/auditors").text(); !strings.Contains(txt, "carol expired") {
		t.Errorf("carol once expired:\n%s", txt)
	}
	e.srv.SetClock(time.Now)

	// The lists page: sorted by due date, the overdue one marked; mine keeps carol's.
	p = carol.mustPage("/lists")
	txt = p.text()
	ia, il := strings.Index(txt, "Auditors"), strings.Index(txt, "Leads")
	if ia < 0 || il < 0 || ia > il || !strings.Contains(txt, "overdue") {
		t.Errorf("the lists page (auditors, due, before leads):\n%s", txt)
	}
	if p := carol.mustPage("/lists?mine=1"); !strings.Contains(p.body, `href="/lists/auditors"`) || strings.Contains(p.body, `href="/lists/leads"`) || strings.Contains(p.body, `href="/lists/ops"`) {
		t.Errorf("carol's lists:\n%s", p.text())
	}
	if p := alice.mustPage("/lists?mine=1&q=lead"); !strings.Contains(p.body, `href="/lists/leads"`) || strings.Contains(p.body, `href="/lists/auditors"`) {
		t.Errorf("alice's lists matching lead:\n%s", p.text())
	}
	if p := alice.get("/lists/no-such-list"); p.status != http.StatusNotFound {
		t.Errorf("a missing list: %d", p.status)
	}
}

// The periodic review as a wizard: members chosen, notes (required: the API's error beside the
// field), confirmed; the review is recorded, the next date moves, the chosen members go, and the
// list's page shows it in its history.
func TestUIListReviewWizard(t *testing.T) {
	e := newGovernEnv(t)
	alice := e.signedIn("alice")
	p := alice.mustPage("/lists/auditors/review")
	if txt := p.text(); !strings.Contains(txt, "Step 1 of 3") || !strings.Contains(p.body, `name="remove" value="bob"`) || !strings.Contains(p.body, `name="remove" value="leads"`) {
		t.Fatalf("step 1:\n%s", p.body)
	}
	tok := csrfOf(t, p)
	step := func(form url.Values) page {
		t.Helper()
		form.Set("csrf", tok)
		return alice.post("/lists/auditors/review", form)
	}
	p = step(url.Values{"action": {"notes"}, "remove": {"bob"}})
	if p.status != 200 || !strings.Contains(p.text(), "Step 2 of 3") || !strings.Contains(p.body, `type="hidden" name="remove" value="bob"`) {
		t.Fatalf("step 2:\n%s", p.body)
	}
	p = step(url.Values{"action": {"confirm"}, "remove": {"bob"}, "notes": {"bob moved teams"}})
	if txt := p.text(); p.status != 200 || !strings.Contains(txt, "Step 3 of 3") || !strings.Contains(txt, "Remove bob") || !strings.Contains(txt, "bob moved teams") {
		t.Fatalf("step 3:\n%s", txt)
	}
	// Back keeps the choice.
	if p := step(url.Values{"action": {"back-to-members"}, "remove": {"bob"}, "notes": {"bob moved teams"}}); !regexp.MustCompile(`value="bob" checked`).MatchString(p.body) {
		t.Errorf("back to step 1 lost the choice:\n%s", p.body)
	}
	// Submitted without notes: the API's error, beside the notes, on step 2; nothing written.
	p = step(url.Values{"action": {"submit"}, "remove": {"bob"}, "notes": {"  "}})
	if m := regexp.MustCompile(`id="notes-error"[^>]*>([^<]*)<`).FindStringSubmatch(p.body); p.status != 400 || m == nil || !strings.Contains(m[1], "required") || !strings.Contains(p.text(), "Step 2 of 3") {
		t.Fatalf("submitted without notes: %d\n%s", p.status, p.body)
	}
	if _, err := e.store.Get(e.ctx, resource.KindAccessListMember, "auditors/bob"); err != nil {
		t.Fatalf("bob was removed by a refused review: %v", err)
	}
	// Removing someone who is no member: on step 1, beside the choice.
	if p := step(url.Values{"action": {"submit"}, "remove": {"zed"}, "notes": {"x"}}); p.status != 400 || !strings.Contains(p.body, `id="remove-error"`) || !strings.Contains(p.text(), "Step 1 of 3") {
		t.Fatalf("removing a non-member: %d\n%s", p.status, p.text())
	}

	p = step(url.Values{"action": {"submit"}, "remove": {"bob"}, "notes": {"bob moved teams"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/lists/auditors?flash=") {
		t.Fatalf("submit: %d %q\n%s", p.status, p.location, p.body)
	}
	lo, err := e.store.Get(e.ctx, resource.KindAccessList, "auditors")
	if err != nil {
		t.Fatal(err)
	}
	want := access.NextAudit(resource.Recurrence{Frequency: 3, DayOfMonth: "15"}, time.Now())
	if got := lo.Spec.(*resource.AccessListSpec).Audit.NextAuditDate; got == nil || !got.Equal(want) {
		t.Fatalf("next review %v, want %v", got, want)
	}
	if _, err := e.store.Get(e.ctx, resource.KindAccessListMember, "auditors/bob"); err == nil {
		t.Fatal("bob is still a member after the review")
	}
	p = alice.mustPage(p.location)
	txt := p.text()
	for _, want := range []string{"Review recorded; removed bob", "reviewed by alice", "bob moved teams", "Removed: bob", "next review due " + want.Format("2006-01-02 15:04 UTC")} {
		if !strings.Contains(txt, want) {
			t.Errorf("the list page after the review lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "overdue") {
		t.Errorf("still overdue after the review:\n%s", txt)
	}
	if strings.Contains(p.body, `data-member="bob"`) {
		t.Errorf("bob still listed:\n%s", txt)
	}
	// The API saw the same review (one code path): the audit log has it with alice as actor.
	found := false
	for _, x := range e.entries(audit.Filter{Actor: "alice"}) {
		found = found || (x.Action == "review" && x.Name == "auditors" && x.Detail == "bob moved teams")
	}
	if !found {
		t.Error("the review is not in the audit log as alice's")
	}
}

// The lists page keeps every list's summary and follows the store's changes: a list made,
// rescheduled or deleted (here through the API, as another replica or the CLI would) shows at once,
// in its place by due date.
func TestUIListsFollowChanges(t *testing.T) {
	e := newGovernEnv(t)
	carol := e.signedIn("carol")
	order := func() string {
		t.Helper()
		p := carol.mustPage("/lists")
		var names []string
		for _, m := range regexp.MustCompile(`<tr id="list-([^"]+)"`).FindAllStringSubmatch(p.body, -1) {
			names = append(names, m[1])
		}
		return strings.Join(names, ",")
	}
	if got := order(); got != "auditors,leads,ops" {
		t.Fatalf("lists: %s", got)
	}
	e.apply(`
kind: access_list
version: v1
metadata: {name: newcomers}
spec: {title: Newcomers, owners: [alice], audit: {recurrence: {frequency: 1}, next_audit_date: 2025-06-01T00:00:00Z}}
---
kind: access_list
version: v1
metadata: {name: leads}
spec: {title: Leads, owners: [alice], grants: {roles: [lead]}, audit: {recurrence: {frequency: 12}, next_audit_date: 2030-01-01T00:00:00Z}}
`)
	if got := order(); got != "newcomers,auditors,leads,ops" {
		t.Fatalf("lists after a new one and a schedule: %s", got)
	}
	if err := e.admin.Delete(e.ctx, resource.KindAccessList, "newcomers", 0); err != nil {
		t.Fatal(err)
	}
	if got := order(); got != "auditors,leads,ops" {
		t.Fatalf("lists after a deletion: %s", got)
	}
	// A review moves auditors' date: no longer overdue.
	row := regexp.MustCompile(`(?s)<tr id="list-auditors">.*?</tr>`)
	if got := row.FindString(carol.mustPage("/lists").body); !strings.Contains(got, "overdue") {
		t.Fatalf("auditors before its review: %s", got)
	}
	alice := e.signedIn("alice")
	p := alice.mustPage("/lists/auditors/review")
	if p := alice.post("/lists/auditors/review", url.Values{"csrf": {csrfOf(t, p)}, "action": {"submit"}, "notes": {"all fine"}}); p.status != http.StatusSeeOther {
		t.Fatalf("review: %d\n%s", p.status, p.text())
	}
	next := access.NextAudit(resource.Recurrence{Frequency: 3, DayOfMonth: "15"}, time.Now())
	if got := row.FindString(carol.mustPage("/lists").body); strings.Contains(got, "overdue") || !strings.Contains(got, next.Format(time.RFC3339)) {
		t.Fatalf("auditors after its review: %s", got)
	}
}

// An administrator who owns no list changes it as an administrative change: with a stale second
// factor the list's page offers the step-up instead of its forms, and a form posted anyway gets the
// step-up page; with a fresh one the forms are there and work. Members come in pages of 50.
func TestUIListAdminStepUpAndPages(t *testing.T) {
	e := newGovernEnv(t)
	e.apply(`
kind: user
version: v1
metadata: {name: carol}
spec: {admin: true}
`)
	var members []string
	for i := 0; i < 55; i++ {
		members = append(members, fmt.Sprintf(`
---
kind: user
version: v1
metadata: {name: u%02d}
spec: {}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: ops, member: u%02d}`, i, i))
	}
	e.apply(strings.TrimPrefix(strings.Join(members, ""), "\n---\n"))
	carol := e.signedIn("carol")
	p := carol.mustPage("/lists/ops")
	if !strings.Contains(p.body, `id="add-member"`) || strings.Contains(p.body, "Confirm your second factor") {
		t.Fatalf("carol, administrator with a fresh factor, lacks the forms:\n%s", p.text())
	}
	// Page 1: bob and u00..u48 (names in order); page 2: the rest.
	rows := regexp.MustCompile(`<tr data-member="([^"]+)"`)
	if got := rows.FindAllStringSubmatch(p.body, -1); len(got) != 50 || got[0][1] != "bob" || got[49][1] != "u48" {
		t.Fatalf("the first page of members: %d rows", len(got))
	}
	next := regexp.MustCompile(`href="(/lists/ops\?after=[^"]+)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatalf("no next page of members:\n%s", p.text())
	}
	p2 := carol.mustPage(html.UnescapeString(next[1]))
	if got := rows.FindAllStringSubmatch(p2.body, -1); len(got) != 6 || got[0][1] != "u49" || strings.Contains(p2.body, `rel="next"`) {
		t.Fatalf("the second page of members: %v", got)
	}

	e.clk.Advance(20 * time.Minute) // past the step-up window
	e.srv.SetClock(e.clk.Now)
	p = carol.mustPage("/lists/ops")
	if strings.Contains(p.body, `id="add-member"`) || strings.Contains(p.body, "/remove") || !strings.Contains(p.body, `href="/login/step-up?next=%2flists%2fops"`) {
		t.Fatalf("carol with a stale factor:\n%s", p.text())
	}
	p = carol.post("/lists/ops/members", url.Values{"csrf": {csrfOf(t, p)}, "member": {"dan"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.text(), "second factor") {
		t.Fatalf("adding with a stale factor: %d\n%s", p.status, p.text())
	}
	if _, err := e.store.Get(e.ctx, resource.KindAccessListMember, "ops/dan"); err == nil {
		t.Fatal("dan was added without the step-up")
	}
}
