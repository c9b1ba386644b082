package server

// The web UI's governance pages: the review inbox (/reviews) and access lists (/lists, a list's
// page, its members' forms and the periodic review's wizard).
//
// Every page reads only what it shows: the inbox pages through PENDING requests in name order
// (request names are UUIDv7s, so oldest first) with the store's state and user filters, judging each
// with the API's own reviewer (rv.may); the requester's context is read by user. A list's page
// reads the list, one page of its members, its granted roles and its history (audit entries by
// subject). The lists page is sorted by review due date, which the store (ordered by name) cannot
// page: the server keeps every list's summary, sorted, from the change feed (ui_govern_lists.go);
// "mine" adds the person's memberships (the members' index).
//
// Changes go through the same functions as the API's handlers (lists.go: addMember, removeMember,
// reviewList), so the same rules and audit entries apply.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/web"
)

// Page sizes and form bounds of the governance pages.
const (
	inboxPageSize = 20
	// inboxScan is how many pending requests the inbox reads at a time, judging each.
	inboxScan       = 100
	listsPageSize   = 50
	membersPageSize = 50
	// reviewPickSize is how many members step 1 of the review wizard shows at once.
	reviewPickSize = 200
	// recentRequests is how many of a requester's recent requests the inbox shows.
	recentRequests = 5
	// recentCount bounds how many of a requester's requests the inbox counts.
	recentCount = 100
	// recentWindow is how far back the inbox looks for a requester's recent requests.
	recentWindow = 30 * 24 * time.Hour
	// historySize is how many reviews a list's page shows.
	historySize = 20
	// historyScan bounds the list's audit entries read for its reviews (its newest).
	historyScan = 200

	maxFilterLen = 200
	maxNameLen   = 256
	maxReasonLen = 1000
	maxNotesLen  = 4000
	maxRemove    = 1000
)

// uiGovernRoutes: the review inbox (/reviews), access lists (/lists, /lists/{name}).
func (s *Server) uiGovernRoutes() {
	s.handle("GET /reviews", s.ui(web.SectionReviews, s.uiReviews))
	s.handle("GET /lists", s.ui(web.SectionLists, s.uiLists))
	s.handle("GET /lists/{list}", s.ui(web.SectionLists, s.uiList))
	s.handle("POST /lists/{list}/members", s.ui(web.SectionLists, s.uiMemberAdd))
	s.handle("POST /lists/{list}/members/{member}/remove", s.ui(web.SectionLists, s.uiMemberRemove))
	s.handle("GET /lists/{list}/review", s.ui(web.SectionLists, s.uiListReview))
	s.handle("POST /lists/{list}/review", s.ui(web.SectionLists, s.uiListReview))
}

// bounded is a query or form value cut to at most n bytes (never inside a character), trimmed.
func bounded(v string, n int) string {
	v = strings.TrimSpace(v)
	if len(v) > n {
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	return v
}

// ---- the review inbox ----

// reviewsPage is the data of reviews.html.
type reviewsPage struct {
	Flash, Problem string
	// Filters as given.
	Requester, What, Q string
	Rows               []*reviewRow
	// Next is the cursor of the next page ("" on the last); First says this is the first page.
	Next  string
	First bool
	// Fresh: the second factor is recent enough to approve; else the page offers the step-up.
	Fresh bool
	// Back is this page's address, where the review forms come back to.
	Back string
}

// reviewRow is one request awaiting the viewer's review.
type reviewRow struct {
	ID, Requester   string
	Roles           []string
	Resources       []resource.RequestedResource
	Reason          string
	Duration        string
	Start           *time.Time
	Asked, Deadline time.Time
	Approvals       int
	// Needed is the approvals that approve it (0 when the terms could not be read: Problem says why).
	Needed  int
	Reviews []resource.Review
	Problem string
	Context *requesterContext
}

// requesterContext is what a requester already holds and has asked for lately.
type requesterContext struct {
	// Missing: the requester is no user any more.
	Missing bool
	Lists   []string
	Roles   []heldRole // Name and Gives only
	Active  []contextRequest
	Recent  []contextRequest
	// RecentCount is how many requests they made in the window (Recent shows the newest few);
	// RecentMore says it is a bound (recentCount) and they made more.
	RecentCount int
	RecentMore  bool
}

// contextRequest is one of a requester's other requests.
type contextRequest struct {
	ID, State string
	What      string
	Asked     time.Time
	End       *time.Time
}

// requestWhat is what a request asks for, in a few words.
func requestWhat(req *resource.AccessRequestSpec) string {
	var parts []string
	parts = append(parts, req.Roles...)
	for _, r := range req.Resources {
		parts = append(parts, fmt.Sprintf("%s on %s", or(r.PermissionSetName, r.PermissionSet), or(r.AccountName, r.Account)))
	}
	return strings.Join(parts, ", ")
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// uuidV7Floor is the least UUIDv7 string of a request made at or after t: request names are
// UUIDv7s (manage.prepare), which sort by their time.
func uuidV7Floor(t time.Time) string {
	ms := uint64(t.UnixMilli())
	return fmt.Sprintf("%08x-%04x-0000-0000-000000000000", ms>>16, ms&0xffff)
}

func (s *Server) uiReviews(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ctx, q := r.Context(), r.URL.Query()
	d := &reviewsPage{Flash: uiFlash(r), Requester: bounded(q.Get("requester"), maxFilterLen),
		What: bounded(q.Get("what"), maxFilterLen), Q: bounded(q.Get("q"), maxFilterLen),
		Fresh: s.stepUpFresh(p), Back: SafeNext(r.URL.RequestURI())}
	after := bounded(q.Get("after"), maxNameLen)
	d.First = after == ""
	rv, err := s.reviewer(ctx, p)
	if err != nil {
		s.uiFail(w, r, "/reviews", err)
		return
	}
	opts := store.ListOptions{After: after, Filters: store.Filter(resource.IndexState, resource.StatePending)}
	if d.Requester != "" {
		opts.Filters = append(opts.Filters, store.Filter(resource.IndexUser, d.Requester)...)
	}
	what, text := strings.ToLower(d.What), strings.ToLower(d.Q)
	contexts := map[string]*requesterContext{}
	holdings := map[string][]*resource.Object{}
	now := s.now()
scan:
	for {
		opts.Limit = inboxScan
		objs, err := s.store.List(ctx, resource.KindAccessRequest, opts)
		if err != nil {
			s.uiFail(w, r, "/reviews", err)
			return
		}
		for _, o := range objs {
			if len(d.Rows) == inboxPageSize { // full, and there is more to look at
				d.Next = opts.After
				break scan
			}
			opts.After = o.Metadata.Name
			req := o.Spec.(*resource.AccessRequestSpec)
			access.Expire(req, o.Metadata.CreatedAt, s.pending(), now) // as shown; stored on the next write
			// The API's to_review rule: PENDING, and rv.may (administrators: any but their own).
			if req.State != resource.StatePending || !matchesRequest(o, req, what, text) || rv.may(req) != nil {
				continue
			}
			row, err := s.reviewRow(ctx, rv, o, contexts, holdings, now)
			if err != nil {
				s.uiFail(w, r, "/reviews", err)
				return
			}
			d.Rows = append(d.Rows, row)
		}
		if len(objs) < inboxScan {
			break
		}
	}
	s.uiRender(w, r, http.StatusOK, "reviews", d)
}

// matchesRequest applies the inbox's role/account filter (what) and free text (text), lower-cased.
func matchesRequest(o *resource.Object, req *resource.AccessRequestSpec, what, text string) bool {
	if what != "" {
		hit := false
		for _, role := range req.Roles {
			hit = hit || strings.Contains(strings.ToLower(role), what)
		}
		for _, rr := range req.Resources {
			for _, v := range []string{rr.Account, rr.AccountName, rr.PermissionSet, rr.PermissionSetName} {
				hit = hit || strings.Contains(strings.ToLower(v), what)
			}
		}
		if !hit {
			return false
		}
	}
	if text != "" {
		hay := strings.ToLower(strings.Join([]string{o.Metadata.Name, req.User, req.Reason, requestWhat(req)}, "\n"))
		if !strings.Contains(hay, text) {
			return false
		}
	}
	return true
}

// reviewRow builds one inbox row: the request, its terms (approvals needed, with the reviewer's
// catalog), and its requester's context (read once per requester per page).
func (s *Server) reviewRow(ctx context.Context, rv *reviewer, o *resource.Object, contexts map[string]*requesterContext, holdings map[string][]*resource.Object, now time.Time) (*reviewRow, error) {
	req := o.Spec.(*resource.AccessRequestSpec)
	row := &reviewRow{ID: o.Metadata.Name, Requester: req.User, Roles: req.Roles, Resources: req.Resources,
		Reason: req.Reason, Duration: req.Duration, Start: req.Start, Asked: o.Metadata.CreatedAt,
		Deadline: o.Metadata.CreatedAt.Add(s.pending()), Reviews: req.Reviews}
	for _, x := range req.Reviews {
		if x.Decision == resource.DecisionApprove {
			row.Approvals++
		}
	}
	c, seen := contexts[req.User]
	if !seen {
		var held []*resource.Object
		var err error
		c, held, err = s.requesterContext(ctx, rv, req.User, now)
		if err != nil {
			return nil, err
		}
		contexts[req.User], holdings[req.User] = c, held
	}
	row.Context = c
	// The terms as s.terms computes them, with the catalog the reviewer already read.
	if c.Missing {
		row.Problem = "the requester is no longer a user: the request cannot be approved"
	} else if t, err := access.CheckRequest(req, holdings[req.User], askedRoles(req, rv.all), rv.cat); err != nil {
		row.Problem = "the requester may no longer make this request: " + err.Error()
	} else {
		row.Needed = t.Approvals
	}
	return row, nil
}

// askedRoles are, of all roles, those the request asks for: all the rule reads of them (thousands
// of roles, one per imported group, need not be gone through for each row).
func askedRoles(req *resource.AccessRequestSpec, all map[string]*resource.Object) map[string]*resource.Object {
	out := make(map[string]*resource.Object, len(req.Roles))
	for _, n := range req.Roles {
		if o := all[n]; o != nil {
			out[n] = o
		}
	}
	return out
}

// requesterContext reads what user holds (standing access: lists and roles), their active grants
// and their recent requests, and returns the roles they hold (for the terms of their requests).
func (s *Server) requesterContext(ctx context.Context, rv *reviewer, user string, now time.Time) (*requesterContext, []*resource.Object, error) {
	c := &requesterContext{}
	h, err := access.Holdings(ctx, s.store, user, now)
	if errors.Is(err, store.ErrNotFound) {
		c.Missing = true
		return c, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	c.Lists = h.Lists
	held := make([]*resource.Object, 0, len(h.Roles))
	for _, n := range h.Roles {
		hr := heldRole{Name: n}
		if ro := rv.all[n]; ro != nil {
			held = append(held, ro)
			granted, _ := rv.cat.RoleTargets(ro.Spec.(*resource.RoleSpec)) // as My access says it
			hr.Gives = targetNames(rv.cat, granted)
		}
		c.Roles = append(c.Roles, hr)
	}
	// Active grants: their approved requests whose window is open.
	approved, err := s.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Limit: 50,
		Filters: store.Filter(resource.IndexUser, user, resource.IndexState, resource.StateApproved)})
	if err != nil {
		return nil, nil, err
	}
	for _, o := range approved {
		req := o.Spec.(*resource.AccessRequestSpec)
		if req.Start != nil && req.End != nil && !now.Before(*req.Start) && now.Before(*req.End) {
			c.Active = append(c.Active, contextRequest{ID: o.Metadata.Name, State: req.State, What: requestWhat(req), Asked: o.Metadata.CreatedAt, End: req.End})
		}
	}
	// Recent requests: the newest few (names are UUIDv7s: they rise with time), and how many were
	// made in the window (counted up to a bound, newest first, with the store's reverse order).
	recent, err := s.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Limit: recentCount, Reverse: true,
		After: uuidV7Floor(now.Add(-recentWindow)), Filters: store.Filter(resource.IndexUser, user)})
	if err != nil {
		return nil, nil, err
	}
	c.RecentCount, c.RecentMore = len(recent), len(recent) == recentCount
	for _, o := range recent[:min(len(recent), recentRequests)] {
		req := o.Spec.(*resource.AccessRequestSpec)
		access.Expire(req, o.Metadata.CreatedAt, s.pending(), now)
		c.Recent = append(c.Recent, contextRequest{ID: o.Metadata.Name, State: req.State, What: requestWhat(req), Asked: o.Metadata.CreatedAt, End: req.End})
	}
	return c, held, nil
}

// ---- access lists ----

// listsPage is the data of lists.html.
type listsPage struct {
	Flash, Problem string
	Mine           bool
	Q              string
	Rows           []listRow
	Total          int
	// Page is 1-based; Prev and Next are the pages' links ("" when none).
	Page, Pages int
	Prev, Next  string
}

// listRow is one access list in the lists page.
type listRow struct {
	Name, Title string
	Owners      []string
	Roles       []string
	Due         *time.Time
	Overdue     bool
	Schedule    string
	Owner       bool
}

// schedule says a list's review recurrence in words.
func schedule(a *resource.Audit) string {
	if a == nil {
		return ""
	}
	months := a.Recurrence.Frequency
	if months <= 0 {
		months = 1
	}
	every := "every month"
	if months > 1 {
		every = fmt.Sprintf("every %d months", months)
	}
	switch a.Recurrence.DayOfMonth {
	case "15":
		return every + ", on the 15th"
	case "last":
		return every + ", on the last day"
	default:
		return every + ", on the 1st"
	}
}

func (s *Server) uiLists(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ctx, q := r.Context(), r.URL.Query()
	d := &listsPage{Flash: uiFlash(r), Mine: q.Get("mine") == "1", Q: bounded(q.Get("q"), maxFilterLen), Page: 1}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		d.Page = n
	}
	all, err := s.listSummaries(ctx)
	if err != nil {
		s.uiFail(w, r, "/lists", err)
		return
	}
	var mine map[string]bool
	if d.Mine {
		if mine, err = s.memberOf(ctx, p.User); err != nil {
			s.uiFail(w, r, "/lists", err)
			return
		}
	}
	text := strings.ToLower(d.Q)
	now := s.now()
	var rows []listRow
	for _, l := range all { // sorted by due date already
		owner := slices.Contains(l.Owners, p.User)
		if d.Mine && !owner && !mine[l.Name] || text != "" && !strings.Contains(l.lower, text) {
			continue
		}
		rows = append(rows, listRow{Name: l.Name, Title: l.Title, Owners: l.Owners, Roles: l.Roles, Due: l.Due(),
			Overdue: access.ReviewDue(&resource.AccessListSpec{Audit: l.Audit}, now), Schedule: schedule(l.Audit), Owner: owner})
	}
	d.Total = len(rows)
	d.Pages = max(1, (len(rows)+listsPageSize-1)/listsPageSize)
	d.Page = min(d.Page, d.Pages)
	from := (d.Page - 1) * listsPageSize
	d.Rows = rows[from:min(len(rows), from+listsPageSize)]
	link := func(page int) string {
		v := url.Values{}
		if d.Mine {
			v.Set("mine", "1")
		}
		if d.Q != "" {
			v.Set("q", d.Q)
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		if len(v) == 0 {
			return "/lists"
		}
		return "/lists?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.Next = link(d.Page + 1)
	}
	s.uiRender(w, r, http.StatusOK, "lists", d)
}

// memberOf is the set of lists user is a direct member of (the members' index).
func (s *Server) memberOf(ctx context.Context, user string) (map[string]bool, error) {
	ms, err := s.store.List(ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexMember, user, resource.IndexMemberKind, resource.MemberUser)})
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ms))
	for _, m := range ms {
		out[m.Spec.(*resource.AccessListMemberSpec).List] = true
	}
	return out, nil
}

// listPage is the data of list.html.
type listPage struct {
	Flash, Problem string
	Name, Title    string
	Owners         []string
	Origin         string
	Grants         []grantView
	Requires       *resource.Requires
	Schedule       string
	Due            *time.Time
	Overdue        bool
	Members        []memberRow
	// After is this members page's cursor, Next the next one's ("" on the last).
	After, Next string
	// Govern: "yes" (the viewer may add and remove), "step-up" (an administrator whose second
	// factor is not recent enough: the forms are replaced by the step-up link), "" (may not).
	Govern string
	// Form and Errors: the add-member form's values and errors, when it was refused.
	Form    memberForm
	Errors  map[string]string
	History []historyRow
	// Self is this page's address, where the step-up comes back to.
	Self string
}

// grantView is a role a list grants, with the account × permission set pairs it gives.
type grantView struct {
	Role    string
	Missing bool
	Targets []string
}

// memberRow is one member of a list.
type memberRow struct {
	Member, Kind  string
	State, Why    string
	Expires       *time.Time
	Reason        string
	AddedBy       string
	Since         time.Time
	IsList, IsOwn bool
}

// memberForm is what the add-member form was given.
type memberForm struct {
	Member, Kind, Expires, Reason string
}

// historyRow is one periodic review of a list.
type historyRow struct {
	When     time.Time
	Actor    string
	Notes    string
	Removed  []string
	NextDate *time.Time
}

func (s *Server) uiList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.renderList(w, r, p, http.StatusOK, memberForm{}, nil, "")
}

// renderList renders a list's page (status, with the add form's values and errors when refused).
func (s *Server) renderList(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, form memberForm, errs map[string]string, problem string) {
	ctx, name := r.Context(), r.PathValue("list")
	after := bounded(r.URL.Query().Get("after"), 2*maxNameLen+8)
	lo, members, err := s.listMembers(ctx, name, store.ListOptions{After: after, Limit: membersPageSize + 1})
	if err != nil {
		s.uiFail(w, r, "/lists", err)
		return
	}
	l := lo.Spec.(*resource.AccessListSpec)
	d := &listPage{Flash: uiFlash(r), Problem: problem, Name: name, Title: l.Title, Owners: l.Owners, Origin: l.Origin,
		Requires: l.MembershipRequires, Schedule: schedule(l.Audit), Overdue: access.ReviewDue(l, s.now()),
		After: after, Form: form, Errors: errs, Self: "/lists/" + url.PathEscape(name)}
	if l.Audit != nil {
		d.Due = l.Audit.NextAuditDate
	}
	switch err := s.mayGovernList(p, lo); {
	case err == nil:
		d.Govern = "yes"
	case errors.As(err, new(*stepUpError)):
		d.Govern = "step-up"
	}
	if len(members) > membersPageSize {
		members = members[:membersPageSize]
		d.Next = members[len(members)-1].Metadata.Name
	}
	for _, o := range members {
		d.Members = append(d.Members, memberRowOf(o, p.User))
	}
	if d.Grants, err = s.grantViews(ctx, l.Grants.Roles); err != nil {
		s.uiFail(w, r, "/lists", err)
		return
	}
	if d.History, err = s.listHistory(ctx, name); err != nil {
		s.uiFail(w, r, "/lists", err)
		return
	}
	s.uiRender(w, r, status, "list", d)
}

// memberRowOf is a member record as the list page shows it (its state from status.membership).
func memberRowOf(o *resource.Object, viewer string) memberRow {
	m := o.Spec.(*resource.AccessListMemberSpec)
	var st struct {
		Membership MembershipState `json:"membership"`
	}
	if len(o.Status) > 0 {
		_ = json.Unmarshal(o.Status, &st)
	}
	return memberRow{Member: m.Member, Kind: m.Kind(), State: st.Membership.State, Why: st.Membership.Reason,
		Expires: m.Expires, Reason: m.Reason, AddedBy: m.AddedBy, Since: o.Metadata.CreatedAt,
		IsList: m.Kind() == resource.MemberList, IsOwn: m.Kind() == resource.MemberUser && m.Member == viewer}
}

// grantViews reads the roles a list grants and the account assignments each gives.
func (s *Server) grantViews(ctx context.Context, roles []string) ([]grantView, error) {
	out := make([]grantView, 0, len(roles))
	accounts := map[string]string{}
	for _, name := range roles {
		g := grantView{Role: name}
		ro, err := s.store.Get(ctx, resource.KindRole, name)
		if errors.Is(err, store.ErrNotFound) {
			g.Missing = true
			out = append(out, g)
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, aa := range ro.Spec.(*resource.RoleSpec).Allow.AccountAssignments {
			acc, seen := accounts[aa.Account]
			if !seen {
				acc = aa.Account
				if a, err := s.store.Get(ctx, resource.KindAccount, aa.Account); err == nil {
					if n := a.Spec.(*resource.AccountSpec).Name; n != "" {
						acc = n + " (" + aa.Account + ")"
					}
				} else if !errors.Is(err, store.ErrNotFound) {
					return nil, err
				}
				accounts[aa.Account] = acc
			}
			g.Targets = append(g.Targets, aa.PermissionSet+" on "+acc)
		}
		out = append(out, g)
	}
	return out, nil
}

// listHistory is a list's periodic reviews, newest first: its audit entries by subject, with the
// members each removed (the entries written just before it, in the same transaction).
func (s *Server) listHistory(ctx context.Context, list string) ([]historyRow, error) {
	// The list's newest entries (names rise with the sequence), its reviews among them.
	objs, err := s.store.List(ctx, resource.KindAuditEntry, store.ListOptions{Reverse: true, Limit: historyScan,
		Filters: store.Filter(resource.IndexSubject, resource.RefValue(resource.KindAccessList, list))})
	if err != nil {
		return nil, err
	}
	var out []historyRow
	for i := 0; i < len(objs) && len(out) < historySize; i++ {
		e := objs[i].Spec.(*resource.AuditEntrySpec)
		if e.Action != "review" {
			continue
		}
		h := historyRow{When: e.Time, Actor: e.Actor, Notes: e.Detail}
		var after resource.Object
		if len(e.After) > 0 && json.Unmarshal(e.After, &after) == nil {
			if l, ok := after.Spec.(*resource.AccessListSpec); ok && l.Audit != nil {
				h.NextDate = l.Audit.NextAuditDate
			}
		}
		for seq := e.Seq - 1; seq > 0 && seq > e.Seq-maxRemove-1; seq-- {
			o, err := s.store.Get(ctx, resource.KindAuditEntry, audit.EntryName(seq))
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				return nil, err
			}
			prev := o.Spec.(*resource.AuditEntrySpec)
			if prev.Action != "delete" || prev.Detail != "removed by the review of "+list {
				break
			}
			var before resource.Object
			if json.Unmarshal(prev.Before, &before) == nil {
				if m, ok := before.Spec.(*resource.AccessListMemberSpec); ok {
					h.Removed = append(h.Removed, m.Member)
				}
			}
		}
		slices.Reverse(h.Removed)
		out = append(out, h)
	}
	return out, nil
}

// memberFieldOf maps the API's field paths for a member to the add form's fields.
func memberFieldOf(field string) string {
	switch strings.TrimPrefix(field, "spec.") {
	case "member", "metadata.name", "list":
		return "member"
	case "member_kind", "kind":
		return "kind"
	case "expires":
		return "expires"
	case "reason":
		return "reason"
	}
	return ""
}

// parseExpiry reads the form's expiry: a datetime-local value (UTC), a date, or RFC 3339.
func parseExpiry(v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return &t, nil
		}
	}
	return nil, &resource.FieldError{Field: "spec.expires", Message: "is not a date and time (YYYY-MM-DD HH:MM, UTC)"}
}

func (s *Server) uiMemberAdd(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list := r.PathValue("list")
	back := "/lists/" + url.PathEscape(list)
	member, reason := strings.TrimSpace(r.PostFormValue("member")), strings.TrimSpace(r.PostFormValue("reason"))
	form := memberForm{Member: bounded(member, maxNameLen), Kind: bounded(r.PostFormValue("kind"), 16),
		Expires: bounded(r.PostFormValue("expires"), 64), Reason: bounded(reason, maxReasonLen)}
	errs := map[string]string{}
	if len(member) > maxNameLen {
		errs["member"] = fmt.Sprintf("is longer than %d bytes", maxNameLen)
	}
	if len(reason) > maxReasonLen {
		errs["reason"] = fmt.Sprintf("is longer than %d bytes", maxReasonLen)
	}
	expires, err := parseExpiry(form.Expires)
	if err != nil {
		errs["expires"] = err.(*resource.FieldError).Message
	}
	if len(errs) == 0 {
		in := MemberAdd{Member: form.Member, Kind: form.Kind, Expires: expires, Reason: form.Reason}
		if _, err = s.addMember(r.Context(), p, list, in); err == nil {
			what := form.Member
			if form.Kind == resource.MemberList {
				what = "list " + what
			}
			uiRedirect(w, r, back, fmt.Sprintf("Added %s to %s.", what, list))
			return
		}
		if fes, ok := uiFieldErrors(err); ok {
			for f, msg := range fes {
				if field := memberFieldOf(f); field != "" {
					errs[field] = msg
				} else {
					errs[""] = f + ": " + msg
				}
			}
		} else if errors.Is(err, store.ErrAlreadyExists) {
			errs["member"] = fmt.Sprintf("%s is already a member of %s", form.Member, list)
		} else {
			s.uiFail(w, r, back, err)
			return
		}
	}
	problem := errs[""]
	delete(errs, "")
	s.renderList(w, r, p, http.StatusBadRequest, form, errs, problem)
}

func (s *Server) uiMemberRemove(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	list, member := r.PathValue("list"), r.PathValue("member")
	back := "/lists/" + url.PathEscape(list)
	kind := bounded(r.PostFormValue("kind"), 16)
	if _, err := s.removeMember(r.Context(), p, list, member, kind); err != nil {
		s.uiFail(w, r, back, err)
		return
	}
	what := member
	if kind == resource.MemberList {
		what = "list " + member
	}
	uiRedirect(w, r, back, fmt.Sprintf("Removed %s from %s.", what, list))
}

// reviewWizard is the data of list_review.html: the periodic review in three steps (1: choose the
// members to remove, 2: notes, 3: confirm), its state carried by the form.
type reviewWizard struct {
	Problem     string
	Name, Title string
	Step        int
	Schedule    string
	Due         *time.Time
	Overdue     bool
	// NextDate is when the next review will be due if this one is submitted now.
	NextDate time.Time
	// Members is step 1's page of members (After its cursor, Next the next page's).
	Members     []memberRow
	After, Next string
	// Remove are the members chosen for removal (by name), Chosen the same as a set.
	Remove []string
	Chosen map[string]bool
	// Kept are the chosen members step 1's page does not show (carried as hidden fields).
	Kept   []string
	Notes  string
	Errors map[string]string
}

func (s *Server) uiListReview(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ctx, list := r.Context(), r.PathValue("list")
	self := "/lists/" + url.PathEscape(list) + "/review"
	lo, err := s.store.Get(ctx, resource.KindAccessList, list)
	if err != nil {
		s.uiFail(w, r, "/lists", err)
		return
	}
	if err := s.mayGovernList(p, lo); err != nil {
		s.uiFail(w, r, self, err)
		return
	}
	l := lo.Spec.(*resource.AccessListSpec)
	d := &reviewWizard{Name: list, Title: l.Title, Step: 1, Schedule: schedule(l.Audit), Overdue: access.ReviewDue(l, s.now()),
		Chosen: map[string]bool{}, Errors: map[string]string{}}
	if l.Audit != nil {
		d.Due = l.Audit.NextAuditDate
		d.NextDate = access.NextAudit(l.Audit.Recurrence, s.now())
	} else {
		d.Problem = fmt.Sprintf("%s has no review schedule: an administrator sets one (spec.audit) before it is reviewed.", list)
	}
	action := ""
	if r.Method == http.MethodPost {
		for _, m := range r.PostForm["remove"] {
			m = bounded(m, maxNameLen)
			if m != "" && !d.Chosen[m] && len(d.Remove) < maxRemove {
				d.Chosen[m] = true
				d.Remove = append(d.Remove, m)
			}
		}
		notes := strings.TrimSpace(r.PostFormValue("notes"))
		if len(notes) > maxNotesLen {
			d.Errors["notes"] = fmt.Sprintf("is longer than %d bytes", maxNotesLen)
		}
		d.Notes = bounded(notes, maxNotesLen)
		action = r.PostFormValue("action")
		d.After = bounded(r.PostFormValue("after"), 2*maxNameLen+8)
		if pg, ok := r.PostForm["page"]; ok && len(pg) > 0 { // step 1's pager: another page of members
			action, d.After = "members", bounded(strings.TrimPrefix(pg[0], "-"), 2*maxNameLen+8)
		}
	}
	switch action {
	case "", "members", "back-to-members":
		d.Step = 1
	case "notes", "back-to-notes":
		d.Step = 2
	case "confirm":
		d.Step = 3
		if len(d.Errors) > 0 {
			d.Step = 2
		}
	case "submit":
		d.Step = 3
		if len(d.Errors) > 0 {
			d.Step = 2
			break
		}
		_, err := s.reviewList(ctx, p, list, ListReview{Remove: d.Remove, Notes: d.Notes})
		if err == nil {
			msg := "Review recorded"
			if len(d.Remove) > 0 {
				msg += fmt.Sprintf("; removed %s", strings.Join(d.Remove, ", "))
			}
			uiRedirect(w, r, "/lists/"+url.PathEscape(list), msg+".")
			return
		}
		fes, ok := uiFieldErrors(err)
		if !ok {
			s.uiFail(w, r, self, err)
			return
		}
		for f, msg := range fes {
			switch {
			case f == "notes":
				d.Step, d.Errors["notes"] = 2, msg
			case strings.HasPrefix(f, "remove["):
				d.Step, d.Errors["remove"] = 1, msg
			default:
				d.Problem = f + ": " + msg
			}
		}
	default:
		s.uiFail(w, r, self, &resource.FieldError{Field: "action", Message: "unknown step"})
		return
	}
	if d.Step == 1 {
		_, members, err := s.listMembers(ctx, list, store.ListOptions{After: d.After, Limit: reviewPickSize + 1})
		if err != nil {
			s.uiFail(w, r, self, err)
			return
		}
		if len(members) > reviewPickSize {
			members = members[:reviewPickSize]
			d.Next = members[len(members)-1].Metadata.Name
		}
		shown := map[string]bool{}
		for _, o := range members {
			row := memberRowOf(o, p.User)
			shown[row.Member] = true
			d.Members = append(d.Members, row)
		}
		for _, m := range d.Remove {
			if !shown[m] {
				d.Kept = append(d.Kept, m)
			}
		}
	}
	status := http.StatusOK
	if len(d.Errors) > 0 || d.Problem != "" && r.Method == http.MethodPost {
		status = http.StatusBadRequest
	}
	s.uiRender(w, r, status, "list_review", d)
}
