package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/client"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

// A periodic review by a list's owner: overdue lists are listed, the review removes members, moves
// the next date by the recurrence and is logged with its notes; others may not review.
func TestListPeriodicReview(t *testing.T) {
	e := newEnv(t)
	e.apply(base + `
---
kind: access_list
version: v1
metadata: {name: auditors}
spec: {title: Auditors, owners: [alice], audit: {recurrence: {frequency: 3, day_of_month: 15}, next_audit_date: 2026-01-15T00:00:00Z}}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: auditors, member: bob}
---
kind: access_list_member
version: v1
metadata: {}
spec: {list: auditors, member: alice}
`)
	as := func(user string) *client.Client {
		tok, err := e.admin.CreateToken(e.ctx, user, "1h")
		if err != nil {
			t.Fatal(err)
		}
		return client.New(e.url, tok.Token)
	}
	alice, bob := as("alice"), as("bob")
	due, err := bob.Lists(e.ctx, true)
	if err != nil || len(due) != 1 || due[0].Metadata.Name != "auditors" {
		t.Fatalf("lists due for review: %v %v", due, err)
	}
	if _, err := bob.ListReview(e.ctx, "auditors", server.ListReview{Notes: "fine"}); status(err) != 403 {
		t.Fatalf("a member reviewing: %v", err)
	}
	if _, err := alice.ListReview(e.ctx, "auditors", server.ListReview{}); status(err) != 400 || !strings.Contains(err.Error(), "notes") {
		t.Fatalf("a review without notes: %v", err)
	}
	if _, err := alice.ListReview(e.ctx, "auditors", server.ListReview{Remove: []string{"carol"}, Notes: "x"}); status(err) != 400 || !strings.Contains(err.Error(), "remove[0]") {
		t.Fatalf("removing a non-member: %v", err)
	}
	if _, err := alice.ListReview(e.ctx, "ops", server.ListReview{Notes: "x"}); status(err) != 400 || !strings.Contains(err.Error(), "no review schedule") {
		t.Fatalf("reviewing a list without a schedule: %v", err)
	}
	o, err := alice.ListReview(e.ctx, "auditors", server.ListReview{Remove: []string{"bob"}, Notes: "bob moved teams"})
	if err != nil {
		t.Fatal(err)
	}
	want := access.NextAudit(resource.Recurrence{Frequency: 3, DayOfMonth: "15"}, time.Now())
	if got := o.Spec.(*resource.AccessListSpec).Audit.NextAuditDate; got == nil || !got.Equal(want) {
		t.Fatalf("next review %v, want %v", got, want)
	}
	members, _ := alice.Members(e.ctx, "auditors")
	if len(members) != 1 || members[0].Spec.(*resource.AccessListMemberSpec).Member != "alice" {
		t.Fatalf("members after the review: %v", members)
	}
	if due, _ := bob.Lists(e.ctx, true); len(due) != 0 {
		t.Fatalf("still due after the review: %v", due)
	}
	log, err := e.admin.Audit(e.ctx, "", "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, x := range log {
		found = append(found, x.Action+":"+x.Name+":"+x.Detail)
	}
	if got := strings.Join(found, ","); !strings.Contains(got, "delete:auditors/bob:removed by the review of auditors") || !strings.Contains(got, "review:auditors:bob moved teams") {
		t.Fatalf("audit of the review: %s", got)
	}
}
