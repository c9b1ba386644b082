package notify

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/resource"
)

// Event is one notification before it is shaped for a webhook.
type Event struct {
	// Key identifies the event: the same event found twice (after a restart) has the same key.
	Key   string    `json:"key"`
	Type  string    `json:"event"`
	Time  time.Time `json:"time"`
	Actor string    `json:"actor,omitempty"`
	// Cause says why a request ended: for request.expired "window_ended" or "not_reviewed".
	Cause   string   `json:"cause,omitempty"`
	Request *Request `json:"request,omitempty"`
	// Review is the review behind request.reviewed, approved and denied.
	Review *Review `json:"review,omitempty"`
	List   *List   `json:"list,omitempty"`
	Token  *Token  `json:"token,omitempty"`
}

// Token is a credential warden holds that is about to expire (never the credential itself).
type Token struct {
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
}

// Request is an access request as notifications show it.
type Request struct {
	ID        string     `json:"id"`
	User      string     `json:"user"`
	Roles     []string   `json:"roles"`
	Resources []Resource `json:"resources"`
	State     string     `json:"state"`
	Reason    string     `json:"reason"`
	Duration  string     `json:"duration,omitempty"`
	Start     *time.Time `json:"start"`
	End       *time.Time `json:"end"`
	Created   time.Time  `json:"created"`
	Reviews   []Review   `json:"reviews"`
}

// Resource is one account × permission set.
type Resource struct {
	// Account and PermissionSet are names people read (the id or ARN when warden knows no name).
	Account       string `json:"account"`
	PermissionSet string `json:"permission_set"`
	// AccountID and PermissionSetARN are what the request was resolved to.
	AccountID        string `json:"account_id,omitempty"`
	PermissionSetARN string `json:"permission_set_arn,omitempty"`
}

// Review is one reviewer's decision.
type Review struct {
	Author   string    `json:"author"`
	Decision string    `json:"decision"`
	Reason   string    `json:"reason"`
	Created  time.Time `json:"created"`
}

// List is an access list whose review is due.
type List struct {
	Name          string    `json:"name"`
	Title         string    `json:"title"`
	Owners        []string  `json:"owners"`
	NextAuditDate time.Time `json:"next_audit_date"`
}

// Payload is the body of a json-format delivery.
type Payload struct {
	// ID is the delivery's id: the same on every attempt and on a resend after a restart, so a
	// receiver can drop duplicates.
	ID      string    `json:"id"`
	Event   string    `json:"event"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor,omitempty"`
	Cause   string    `json:"cause,omitempty"`
	Summary string    `json:"summary"`
	// URL is the page of the request (or the access list) in warden's web UI, the deep link a
	// reviewer opens: <ui.base_url>/requests/<id> or <ui.base_url>/lists/<name>.
	URL     string   `json:"url,omitempty"`
	Request *Request `json:"request,omitempty"`
	Review  *Review  `json:"review,omitempty"`
	List    *List    `json:"list,omitempty"`
	Token   *Token   `json:"token,omitempty"`
}

// SlackPayload is the body of a slack-format delivery (Slack's incoming webhooks and the many
// services that accept their form).
type SlackPayload struct {
	Text string `json:"text"`
}

func requestOf(o *resource.Object) *Request {
	s := o.Spec.(*resource.AccessRequestSpec)
	r := &Request{ID: o.Metadata.Name, User: s.User, Roles: append([]string{}, s.Roles...), Resources: []Resource{},
		State: s.State, Reason: s.Reason, Duration: s.Duration, Start: utc(s.Start), End: utc(s.End),
		Created: o.Metadata.CreatedAt.UTC(), Reviews: []Review{}}
	if r.State == "" {
		r.State = resource.StatePending
	}
	for _, a := range s.Resources {
		r.Resources = append(r.Resources, Resource{Account: cmp.Or(a.AccountName, a.Account), PermissionSet: cmp.Or(a.PermissionSetName, a.PermissionSet),
			AccountID: a.Account, PermissionSetARN: a.PermissionSet})
	}
	for _, v := range s.Reviews {
		r.Reviews = append(r.Reviews, reviewOf(v))
	}
	return r
}

func reviewOf(v resource.Review) Review {
	return Review{Author: v.Author, Decision: v.Decision, Reason: v.Reason, Created: v.Created.UTC()}
}

func listOf(o *resource.Object) *List {
	s := o.Spec.(*resource.AccessListSpec)
	l := &List{Name: o.Metadata.Name, Title: s.Title, Owners: append([]string{}, s.Owners...)}
	if s.Audit != nil && s.Audit.NextAuditDate != nil {
		l.NextAuditDate = s.Audit.NextAuditDate.UTC()
	}
	return l
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// deliveryID is the id of event's delivery to webhook: derived from both, so a resend keeps it.
func deliveryID(webhook, key string) string {
	sum := sha256.Sum256([]byte(webhook + "\n" + key))
	return hex.EncodeToString(sum[:16])
}

// body renders event for a webhook's format; base is the web UI's address the event's link starts
// with (none when empty).
func body(format, id string, e *Event, base string) ([]byte, error) {
	link := Link(base, e)
	if format == FormatSlack {
		text := Summary(e)
		if link != "" {
			text += "\n" + link
		}
		return json.Marshal(SlackPayload{Text: slackEscape(text)})
	}
	return json.Marshal(Payload{ID: id, Event: e.Type, Time: e.Time.UTC(), Actor: e.Actor, Cause: e.Cause,
		Summary: Summary(e), URL: link, Request: e.Request, Review: e.Review, List: e.List, Token: e.Token})
}

// Link is the page of the event's request or access list in the web UI at base (empty without
// a base, or for an event about neither).
func Link(base string, e *Event) string {
	base = strings.TrimSuffix(base, "/")
	switch {
	case base == "":
		return ""
	case e.Request != nil:
		return base + "/requests/" + url.PathEscape(e.Request.ID)
	case e.List != nil:
		return base + "/lists/" + url.PathEscape(e.List.Name)
	}
	return ""
}

// slackEscape escapes what Slack's text format treats as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

const timeFormat = "2006-01-02 15:04:05 UTC"

func fmtTime(t *time.Time) string {
	if t == nil {
		return "?"
	}
	return t.UTC().Format(timeFormat)
}

// what names what a request asks for: its roles, or its account × permission set.
func (r *Request) what() string {
	if len(r.Roles) > 0 {
		return strings.Join(r.Roles, ", ")
	}
	var parts []string
	for _, x := range r.Resources {
		parts = append(parts, x.PermissionSet+" on "+x.Account)
	}
	return strings.Join(parts, ", ")
}

func (r *Request) window() string {
	return fmt.Sprintf("%s to %s", fmtTime(r.Start), fmtTime(r.End))
}

func quoted(label, s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf(", %s %q", label, s)
}

// Summary is the event in one readable line: who, what, the window, the reason.
func Summary(e *Event) string {
	if e.Token != nil {
		return fmt.Sprintf("Identity Center's SCIM token %s, which warden provisions users and groups with, expires on %s: generate a new one in Identity Center's console and give it to `warden integration scim-token set`",
			e.Token.ID, e.Token.Expires.UTC().Format("2006-01-02"))
	}
	if e.List != nil {
		l := e.List
		return fmt.Sprintf("Access list %q (%s) is overdue for review since %s; owners: %s", l.Title, l.Name,
			l.NextAuditDate.Format("2006-01-02"), strings.Join(l.Owners, ", "))
	}
	r := e.Request
	if r == nil {
		return e.Type
	}
	id := " (request " + r.ID + ")"
	rv := Review{Author: e.Actor}
	if e.Review != nil {
		rv = *e.Review
	}
	switch e.Type {
	case RequestCreated:
		d := ""
		if r.Duration != "" {
			d = " for " + r.Duration
		}
		if r.Start != nil {
			d += " from " + fmtTime(r.Start)
		}
		return fmt.Sprintf("%s requests %s%s%s%s", r.User, r.what(), d, quoted("reason", r.Reason), id)
	case RequestReviewed:
		return fmt.Sprintf("%s reviewed %s's request for %s: %s%s; still pending%s", rv.Author, r.User, r.what(),
			strings.ToLower(rv.Decision), quoted("saying", rv.Reason), id)
	case RequestApproved:
		return fmt.Sprintf("%s approved %s's request for %s, %s%s%s", rv.Author, r.User, r.what(), r.window(),
			quoted("saying", rv.Reason), id)
	case RequestDenied:
		return fmt.Sprintf("%s denied %s's request for %s%s%s", rv.Author, r.User, r.what(), quoted("saying", rv.Reason), id)
	case RequestStarted:
		return fmt.Sprintf("%s's access to %s has started, until %s%s%s", r.User, r.what(), fmtTime(r.End), quoted("reason", r.Reason), id)
	case RequestExpired:
		if e.Cause == CauseNotReviewed {
			return fmt.Sprintf("%s's request for %s expired without enough reviews%s", r.User, r.what(), id)
		}
		return fmt.Sprintf("%s's access to %s has ended (%s)%s", r.User, r.what(), r.window(), id)
	case RequestCancelled:
		return fmt.Sprintf("%s cancelled %s's request for %s%s", e.Actor, r.User, r.what(), id)
	case RequestRevoked:
		return fmt.Sprintf("%s revoked %s's access to %s%s", e.Actor, r.User, r.what(), id)
	}
	return fmt.Sprintf("%s: %s's request for %s%s", e.Type, r.User, r.what(), id)
}

// Causes of request.expired.
const (
	CauseWindowEnded = "window_ended"
	CauseNotReviewed = "not_reviewed"
)
