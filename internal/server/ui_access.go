package server

// The web UI's access pages: My access (/), Request access (/request: the catalog and its cart,
// /request/checkout), and the request pages (/requests, /requests/{id} with its review, cancel and
// revoke forms).
//
// What a person may request, may read and may do is decided by the API's own code: the catalog
// keeps the items access.CheckRequest allows them; checkout makes the requests through
// createRequests (all or none); the request page reads through showRequest (mayRead) and acts
// through reviewRequest, cancelRequest and revokeRequest. Every page reads only the person's own
// data, through index filters (their requests by user and state, their memberships by member),
// plus the catalog of accounts, permission sets and roles the rules need (the API reads it too).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/manage"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/web"
)

// Bounds of the access pages.
const (
	maxCart         = 20  // items in a cart
	maxCatalogShow  = 50  // catalog items shown for one search
	maxQueryLen     = 100 // a catalog search
	maxOwnRequests  = 200 // a person's requests read in one state for My access
	endedShown      = 5   // recently ended requests on My access
	requestsPerPage = 25  // requests on one page of /requests
	durationStep    = 30 * time.Minute
)

// uiAccessRoutes: My access (/), Request access (/request), the request pages (/requests/{id}).
func (s *Server) uiAccessRoutes() {
	s.handle("GET /{$}", s.ui(web.SectionAccess, s.uiMyAccess))
	s.handle("GET /request", s.ui(web.SectionRequest, s.uiCatalog))
	s.handle("GET /request/checkout", s.ui(web.SectionRequest, s.uiCheckout))
	s.handle("POST /request/checkout", s.ui(web.SectionRequest, s.uiCheckoutPost))
	s.handle("GET /requests", s.ui(web.SectionRequest, s.uiRequests))
	s.handle("GET /requests/{id}", s.ui(web.SectionRequest, s.uiRequest))
	s.handle("POST /requests/{id}/review", s.ui(web.SectionRequest, s.uiReview))
	s.handle("POST /requests/{id}/cancel", s.ui(web.SectionRequest, s.uiCancel))
	s.handle("POST /requests/{id}/revoke", s.ui(web.SectionRequest, s.uiRevoke))
}

// ---- My access ----

// heldList is an access list the person is in, and how.
type heldList struct {
	Name, Title string
	Since       time.Time
	Expires     *time.Time
	// Via is the nested list through which they are in it (empty: a member directly).
	Via, ViaTitle string
}

// heldRole is a role the person holds, what it gives, and why they hold it.
type heldRole struct {
	Name  string
	Gives []string // "PermissionSet on Account"
	// Direct: the role is given to the person; Lists: the lists that grant it to them.
	Direct bool
	Lists  []heldList
}

// requestRow is a request as the lists of requests show it.
type requestRow struct {
	ID, User, What, State, Reason, EndReason string
	Created                                  time.Time
	Start, End                               *time.Time
	Reviews                                  int
}

type myAccessPage struct {
	Flash, Problem string
	User           string
	Lists          []heldList
	Roles          []heldRole
	Active         []requestRow
	Scheduled      []requestRow
	Pending        []requestRow
	Ended          []requestRow
	Apps           []App
	// AWSConfig: the AWS CLI configuration can be downloaded (GET /aws-config).
	AWSConfig bool
}

func (s *Server) uiMyAccess(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ctx := r.Context()
	data := myAccessPage{Flash: uiFlash(r), User: p.User}
	cat, all, err := s.catalog(ctx)
	if err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	if data.Lists, data.Roles, err = s.standing(ctx, p.User, cat, all); err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	now := s.now()
	for _, state := range []string{resource.StateApproved, resource.StatePending} {
		objs, err := s.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Limit: maxOwnRequests,
			Filters: store.Filter(resource.IndexUser, p.User, resource.IndexState, state)})
		if err != nil {
			s.uiFail(w, r, "/", err)
			return
		}
		for _, o := range objs {
			req := o.Spec.(*resource.AccessRequestSpec)
			access.Expire(req, o.Metadata.CreatedAt, s.pending(), now) // as shown; stored on the next write
			row := rowOf(o)
			switch {
			case req.State == resource.StatePending:
				data.Pending = append(data.Pending, row)
			case req.State != resource.StateApproved:
				data.Ended = append(data.Ended, row)
			case req.Start != nil && now.Before(*req.Start):
				data.Scheduled = append(data.Scheduled, row)
			default:
				data.Active = append(data.Active, row)
			}
		}
	}
	// Recently ended: the latest few of each ended state (request ids are UUIDv7, in the order
	// they were made, so the store reads them newest first and stops there).
	for _, state := range []string{resource.StateDenied, resource.StateExpired, resource.StateCancelled} {
		objs, err := s.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Reverse: true, Limit: endedShown,
			Filters: store.Filter(resource.IndexUser, p.User, resource.IndexState, state)})
		if err != nil {
			s.uiFail(w, r, "/", err)
			return
		}
		for _, o := range objs {
			data.Ended = append(data.Ended, rowOf(o))
		}
	}
	slices.SortFunc(data.Ended, func(a, b requestRow) int { return strings.Compare(b.ID, a.ID) })
	if len(data.Ended) > endedShown {
		data.Ended = data.Ended[:endedShown]
	}
	if data.Apps, err = s.appsOf(ctx, p); err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	data.AWSConfig = s.awsConfigReady(ctx)
	s.uiRender(w, r, http.StatusOK, "my_access", data)
}

func rowOf(o *resource.Object) requestRow {
	req := o.Spec.(*resource.AccessRequestSpec)
	return requestRow{ID: o.Metadata.Name, User: req.User, What: requestWhat(req), State: cmp.Or(req.State, resource.StatePending),
		Reason: req.Reason, EndReason: req.EndReason, Created: o.Metadata.CreatedAt, Start: req.Start, End: req.End, Reviews: len(req.Reviews)}
}

// recordingMembership reads memberships for policy.Holdings as access.Holdings does (the records
// naming the user, then the lists found) and keeps what it read, to tell afterwards why the user
// is in each list.
type recordingMembership struct {
	ctx     context.Context
	st      store.Reader
	records []*resource.Object
	lists   map[string]*resource.AccessListSpec
}

func (m *recordingMembership) MembersNaming(name string) ([]*resource.AccessListMemberSpec, error) {
	objs, err := m.st.List(m.ctx, resource.KindAccessListMember, store.ListOptions{Filters: store.Filter(resource.IndexMember, name)})
	if err != nil {
		return nil, err
	}
	m.records = append(m.records, objs...)
	out := make([]*resource.AccessListMemberSpec, len(objs))
	for i, o := range objs {
		out[i] = o.Spec.(*resource.AccessListMemberSpec)
	}
	return out, nil
}

func (m *recordingMembership) AccessList(name string) (*resource.AccessListSpec, error) {
	if l, ok := m.lists[name]; ok {
		return l, nil
	}
	o, err := m.st.Get(m.ctx, resource.KindAccessList, name)
	if errors.Is(err, store.ErrNotFound) {
		m.lists[name] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m.lists[name] = o.Spec.(*resource.AccessListSpec)
	return m.lists[name], nil
}

// standing is what user holds now without asking (policy.Holdings, warden's one definition): the
// lists they are in and how, and the roles they hold with what each gives and why.
func (s *Server) standing(ctx context.Context, user string, cat *policy.Catalog, all map[string]*resource.Object) ([]heldList, []heldRole, error) {
	uo, err := s.store.Get(ctx, resource.KindUser, user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	uspec := uo.Spec.(*resource.UserSpec)
	now := s.now()
	m := &recordingMembership{ctx: ctx, st: s.store, lists: map[string]*resource.AccessListSpec{}}
	h, err := policy.Holdings(m, user, uspec, now)
	if err != nil {
		return nil, nil, err
	}
	in := map[string]bool{}
	for _, l := range h.Lists {
		in[l] = true
	}
	title := func(name string) string {
		if l := m.lists[name]; l != nil && l.Title != "" {
			return l.Title
		}
		return name
	}
	var lists []heldList
	for _, name := range h.Lists {
		hl := heldList{Name: name, Title: title(name)}
		found := false
		for _, o := range m.records { // a direct membership first, then one through a nested list
			rec := o.Spec.(*resource.AccessListMemberSpec)
			if rec.List != name || (rec.Expires != nil && !now.Before(*rec.Expires)) {
				continue
			}
			direct := rec.Kind() == resource.MemberUser && rec.Member == user
			nested := rec.Kind() == resource.MemberList && in[rec.Member]
			if !direct && !nested || (found && !direct) {
				continue
			}
			hl.Since, hl.Expires, hl.Via, hl.ViaTitle = o.Metadata.CreatedAt, rec.Expires, "", ""
			if nested {
				hl.Via, hl.ViaTitle = rec.Member, title(rec.Member)
			}
			found = true
			if direct {
				break
			}
		}
		lists = append(lists, hl)
	}
	var roles []heldRole
	for _, name := range h.Roles {
		o := all[name]
		if o == nil {
			continue
		}
		hr := heldRole{Name: name, Direct: slices.Contains(uspec.Roles, name)}
		for _, hl := range lists {
			if l := m.lists[hl.Name]; l != nil && slices.Contains(l.Grants.Roles, name) {
				hr.Lists = append(hr.Lists, hl)
			}
		}
		granted, _ := cat.RoleTargets(o.Spec.(*resource.RoleSpec))
		hr.Gives = targetNames(cat, granted)
		roles = append(roles, hr)
	}
	return lists, roles, nil
}

// targetNames are targets as people read them ("PermissionSet on Account"), sorted.
func targetNames(cat *policy.Catalog, targets map[policy.Target]bool) []string {
	out := make([]string, 0, len(targets))
	for t := range targets {
		it, err := cat.Lookup(t.AccountID, t.PermissionSetARN)
		if err != nil {
			out = append(out, t.PermissionSetARN+" on "+t.AccountID)
			continue
		}
		out = append(out, it.PermissionSetName+" on "+cmp.Or(it.AccountName, it.AccountID))
	}
	slices.Sort(out)
	return out
}

// ---- the catalog and the cart ----

// catalogItem is one thing a person may request: a role, or one account × permission set.
type catalogItem struct {
	// Key is how forms carry it: role:NAME or aa:ACCOUNTID:PERMISSIONSETNAME.
	Key   string
	Role  string
	Item  policy.Item
	Gives []string // for a role: what it grants
	Terms *access.Terms
}

// Label names the item for people.
func (c catalogItem) Label() string {
	if c.Role != "" {
		return c.Role
	}
	return c.Item.PermissionSetName + " on " + cmp.Or(c.Item.AccountName, c.Item.AccountID)
}

// IsRole says whether the item is a role.
func (c catalogItem) IsRole() bool { return c.Role != "" }

// requester is what judging a person's requests needs, read once per page.
type requester struct {
	p    *auth.Principal
	cat  *policy.Catalog
	all  map[string]*resource.Object
	held []*resource.Object
}

func (s *Server) requester(ctx context.Context, p *auth.Principal) (*requester, error) {
	cat, all, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	held, err := access.Roles(ctx, s.store, p.User, s.now())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return &requester{p, cat, all, rolesList(held)}, nil
}

// check judges one request of roles or of one resource as the API will (access.CheckRequest), a
// reason given so that a required one does not hide the terms.
func (rq *requester) check(roles []string, resources []resource.RequestedResource) (*access.Terms, error) {
	spec := &resource.AccessRequestSpec{User: rq.p.User, Roles: roles, Resources: resources, Reason: "-"}
	// The rule reads, of all roles, only those asked for: pass just those (thousands of roles,
	// one per imported group, need not be gone through for each item of the catalog).
	asked := make(map[string]*resource.Object, len(roles))
	for _, n := range roles {
		if o := rq.all[n]; o != nil {
			asked[n] = o
		}
	}
	return access.CheckRequest(spec, rq.held, asked, rq.cat)
}

// item resolves a cart key to an item the person may request (an error says why not).
func (rq *requester) item(key string) (catalogItem, error) {
	kind, rest, _ := strings.Cut(key, ":")
	switch kind {
	case "role":
		if rq.all[rest] == nil {
			return catalogItem{}, fmt.Errorf("role %q does not exist", rest)
		}
		t, err := rq.check([]string{rest}, nil)
		if err != nil {
			return catalogItem{}, err
		}
		granted, _ := rq.cat.RoleTargets(rq.all[rest].Spec.(*resource.RoleSpec))
		return catalogItem{Key: key, Role: rest, Gives: targetNames(rq.cat, granted), Terms: t}, nil
	case "aa":
		acct, ps, _ := strings.Cut(rest, ":")
		it, err := rq.cat.Lookup(acct, ps)
		if err != nil {
			return catalogItem{}, err
		}
		t, err := rq.check(nil, []resource.RequestedResource{{Account: it.AccountID, PermissionSet: it.PermissionSetARN}})
		if err != nil {
			return catalogItem{}, err
		}
		return catalogItem{Key: "aa:" + it.AccountID + ":" + it.PermissionSetName, Item: it, Terms: t}, nil
	}
	return catalogItem{}, fmt.Errorf("%q is not an item of the catalog", key)
}

// candidates are the keys of everything the person's roles let them ask for (allow.request),
// matching q; CheckRequest then judges each (a deny may still refuse it).
func (rq *requester) candidates(q string) []string {
	q = strings.ToLower(q)
	seen := map[string]bool{}
	var out []string
	add := func(key string, texts ...string) {
		if seen[key] {
			return
		}
		if q != "" && !slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(strings.ToLower(t), q) }) {
			return
		}
		seen[key] = true
		out = append(out, key)
	}
	names := make([]string, 0, len(rq.all))
	for n := range rq.all {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, o := range rq.held {
		rc := o.Spec.(*resource.RoleSpec).Allow.Request
		if rc == nil {
			continue
		}
		for _, n := range names {
			if !slices.ContainsFunc(rc.Roles, func(p string) bool { return resource.MatchGlob(p, n) }) {
				continue
			}
			texts := []string{n}
			if q != "" {
				granted, _ := rq.cat.RoleTargets(rq.all[n].Spec.(*resource.RoleSpec))
				texts = append(texts, targetNames(rq.cat, granted)...)
			}
			add("role:"+n, texts...)
		}
		for _, pat := range rc.AccountAssignments {
			for _, t := range rq.cat.Resolve(pat) {
				it, err := rq.cat.Lookup(t.AccountID, t.PermissionSetARN)
				if err != nil {
					continue
				}
				add("aa:"+it.AccountID+":"+it.PermissionSetName, it.AccountID, it.AccountName, it.PermissionSetName,
					it.PermissionSetName+" on "+it.AccountName)
			}
		}
	}
	return out
}

type catalogPage struct {
	Flash, Problem string
	Q              string
	Cart           []catalogItem
	Results        []catalogItem
	More           int  // results not shown
	Searched       bool // a search was made
	Dropped        []string
}

// cartOf reads the cart a form carries (item=...), each item judged again; ones no longer
// allowed are dropped with the reason.
func (rq *requester) cartOf(keys []string) (cart []catalogItem, dropped []string) {
	seen := map[string]bool{}
	for _, k := range keys {
		if len(cart) >= maxCart {
			dropped = append(dropped, fmt.Sprintf("a cart holds %d items at most", maxCart))
			break
		}
		it, err := rq.item(k)
		if err != nil {
			dropped = append(dropped, fmt.Sprintf("%s: %v", k, err))
			continue
		}
		if !seen[it.Key] {
			seen[it.Key] = true
			cart = append(cart, it)
		}
	}
	return cart, dropped
}

func (s *Server) uiCatalog(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	data := catalogPage{Flash: uiFlash(r), Q: strings.TrimSpace(q.Get("q")), Searched: q.Has("q")}
	if len(data.Q) > maxQueryLen {
		data.Q = data.Q[:maxQueryLen]
	}
	rq, err := s.requester(r.Context(), p)
	if err != nil {
		s.uiFail(w, r, "/request", err)
		return
	}
	data.Cart, data.Dropped = rq.cartOf(q["item"])
	inCart := map[string]bool{}
	for _, c := range data.Cart {
		inCart[c.Key] = true
	}
	for _, k := range rq.candidates(data.Q) {
		if inCart[k] {
			continue
		}
		if len(data.Results) == maxCatalogShow {
			data.More++
			continue
		}
		it, err := rq.item(k)
		if err != nil {
			continue // a deny refuses it
		}
		data.Results = append(data.Results, it)
	}
	s.uiRender(w, r, http.StatusOK, "request_new", data)
}

// ---- checkout ----

// group is one request the cart becomes: its roles together, or one account × permission set.
type group struct {
	Label     string
	Roles     []string
	Resource  *policy.Item
	Terms     *access.Terms
	Reviewers reviewers
}

// reviewers says who may review a request: holders of these roles (through these lists, or given
// them directly), and administrators.
type reviewers struct {
	Roles []reviewerRole
}

type reviewerRole struct {
	Role  string
	Lists []string // titles of lists granting it (a few)
	Users []string // people given it directly (a few)
}

// groups turns a cart into its requests: one for its roles, one per account × permission set.
func (s *Server) groups(ctx context.Context, rq *requester, cart []catalogItem) ([]group, error) {
	var out []group
	var roles []string
	for _, c := range cart {
		if c.IsRole() {
			roles = append(roles, c.Role)
		}
	}
	if len(roles) > 0 {
		t, err := rq.check(roles, nil)
		if err != nil {
			return nil, err
		}
		label := "Role " + roles[0]
		if len(roles) > 1 {
			label = "Roles " + strings.Join(roles, ", ")
		}
		out = append(out, group{Label: label, Roles: roles, Terms: t})
	}
	for _, c := range cart {
		if !c.IsRole() {
			it := c.Item
			out = append(out, group{Label: c.Label(), Resource: &it, Terms: c.Terms})
		}
	}
	for i := range out {
		g := &out[i]
		spec := &resource.AccessRequestSpec{User: rq.p.User, Roles: g.Roles}
		if g.Resource != nil {
			spec.Resources = []resource.RequestedResource{{Account: g.Resource.AccountID, PermissionSet: g.Resource.PermissionSetARN}}
		}
		rv, err := s.reviewersOf(ctx, spec, rq.cat, rq.all)
		if err != nil {
			return nil, err
		}
		g.Reviewers = rv
	}
	return out, nil
}

// reviewersOf finds the roles whose holders may review req (the rule of access.CanReview, role
// by role), and a few of the lists and people holding each (index reads, bounded).
func (s *Server) reviewersOf(ctx context.Context, req *resource.AccessRequestSpec, cat *policy.Catalog, all map[string]*resource.Object) (reviewers, error) {
	var out reviewers
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if rc := all[n].Spec.(*resource.RoleSpec).Allow.ReviewRequests; rc == nil || len(rc.Roles) == 0 {
			continue
		}
		if access.CanReview(req, "", []*resource.Object{all[n]}, all, cat) != nil {
			continue
		}
		rr := reviewerRole{Role: n}
		ref := store.Filter(resource.IndexRef, resource.RefValue(resource.KindRole, n))
		lists, err := s.store.List(ctx, resource.KindAccessList, store.ListOptions{Filters: ref, Limit: 5})
		if err != nil {
			return out, err
		}
		for _, l := range lists {
			if slices.Contains(l.Spec.(*resource.AccessListSpec).Grants.Roles, n) {
				rr.Lists = append(rr.Lists, cmp.Or(l.Spec.(*resource.AccessListSpec).Title, l.Metadata.Name))
			}
		}
		users, err := s.store.List(ctx, resource.KindUser, store.ListOptions{Filters: ref, Limit: 5})
		if err != nil {
			return out, err
		}
		for _, u := range users {
			rr.Users = append(rr.Users, u.Metadata.Name)
		}
		out.Roles = append(out.Roles, rr)
	}
	return out, nil
}

type checkoutPage struct {
	Flash, Problem string
	Cart           []catalogItem
	Groups         []group
	Dropped        []string
	// The rules: the longest duration all of the cart allows, whether a reason is required.
	MaxDuration    time.Duration
	ReasonRequired bool
	Durations      []time.Duration
	PendingTTL     time.Duration
	StartAhead     time.Duration
	Now            time.Time
	// The form.
	Reason   string
	Duration time.Duration
	Later    bool
	StartAt  string
	Errors   map[string]string
	// StartMin and StartMax bound the start (datetime-local values, UTC).
	StartMin, StartMax string
}

const datetimeLocal = "2006-01-02T15:04"

// checkout reads the cart and the rules for the checkout page.
func (s *Server) checkout(ctx context.Context, p *auth.Principal, keys []string) (*checkoutPage, *requester, error) {
	rq, err := s.requester(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	data := &checkoutPage{PendingTTL: s.pending(), StartAhead: s.startAhead(), Now: now, Errors: map[string]string{},
		StartMin: now.UTC().Format(datetimeLocal), StartMax: now.Add(s.startAhead()).UTC().Format(datetimeLocal)}
	data.Cart, data.Dropped = rq.cartOf(keys)
	if len(data.Cart) == 0 {
		return data, rq, nil
	}
	if data.Groups, err = s.groups(ctx, rq, data.Cart); err != nil {
		data.Problem = err.Error()
		return data, rq, nil
	}
	for _, g := range data.Groups {
		if data.MaxDuration == 0 || g.Terms.MaxDuration < data.MaxDuration {
			data.MaxDuration = g.Terms.MaxDuration
		}
		data.ReasonRequired = data.ReasonRequired || g.Terms.ReasonRequired
	}
	for d := durationStep; d < data.MaxDuration; d += durationStep {
		data.Durations = append(data.Durations, d)
	}
	data.Durations = append(data.Durations, data.MaxDuration)
	data.Duration = min(time.Hour, data.MaxDuration)
	return data, rq, nil
}

func (s *Server) uiCheckout(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	data, _, err := s.checkout(r.Context(), p, r.URL.Query()["item"])
	if err != nil {
		s.uiFail(w, r, "/request", err)
		return
	}
	if len(data.Cart) == 0 && len(data.Dropped) == 0 {
		uiRedirect(w, r, "/request", "Your cart is empty: choose what to request first.")
		return
	}
	data.Flash = uiFlash(r)
	s.uiRender(w, r, http.StatusOK, "request_checkout", data)
}

func (s *Server) uiCheckoutPost(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ctx := r.Context()
	data, _, err := s.checkout(ctx, p, r.PostForm["item"])
	if err != nil {
		s.uiFail(w, r, "/request", err)
		return
	}
	refuse := func() { s.uiRender(w, r, http.StatusBadRequest, "request_checkout", data) }
	data.Reason = strings.TrimSpace(r.PostFormValue("reason"))
	data.Later = r.PostFormValue("start") == "later"
	data.StartAt = r.PostFormValue("start_at")
	if len(data.Cart) == 0 {
		data.Problem = "Your cart is empty: choose what to request first."
		refuse()
		return
	}
	if len(data.Dropped) > 0 || data.Problem != "" {
		data.Problem = cmp.Or(data.Problem, "Some of your cart may not be requested: "+strings.Join(data.Dropped, "; "))
		refuse()
		return
	}
	// The form's own bounds first, every field, then the API's rules for every request: nothing
	// is made unless all may be.
	if len(data.Reason) > maxReasonLen {
		data.Errors["reason"] = fmt.Sprintf("is longer than %d characters", maxReasonLen)
	} else if data.ReasonRequired && data.Reason == "" {
		data.Errors["reason"] = "is required by the roles that allow this request"
	}
	d, err := time.ParseDuration(r.PostFormValue("duration"))
	switch {
	case err != nil || d <= 0:
		data.Errors["duration"] = "choose how long you need the access"
	case d > data.MaxDuration:
		data.Errors["duration"] = "is longer than the rules allow: at most " + web.FormatDuration(data.MaxDuration)
	default:
		data.Duration = d
	}
	var start *time.Time
	if data.Later {
		t, err := time.ParseInLocation(datetimeLocal, data.StartAt, time.UTC)
		if err != nil {
			data.Errors["start"] = "give the date and time (UTC) the access should start"
		} else {
			start = &t
		}
	}
	if len(data.Errors) > 0 {
		refuse()
		return
	}
	var ins []RequestCreate
	for _, g := range data.Groups {
		in := RequestCreate{Roles: g.Roles, Reason: data.Reason, Duration: data.Duration.String(), Start: start}
		if g.Resource != nil {
			in.Resources = []resource.AccountAssignment{{Account: g.Resource.AccountID, PermissionSet: g.Resource.PermissionSetName}}
		}
		ins = append(ins, in)
	}
	res, err := s.createRequests(ctx, p, ins)
	if err != nil {
		var item *manage.ItemError
		label := ""
		if errors.As(err, &item) && item.Index < len(data.Groups) {
			label = data.Groups[item.Index].Label + ": "
		}
		fields, ok := uiFieldErrors(err)
		if !ok {
			if code, _ := errorBody(err); code >= 500 {
				s.uiFail(w, r, "/request", err)
				return
			}
			_, body := errorBody(err)
			data.Problem = label + body.Error + " Nothing was requested."
			refuse()
			return
		}
		for f, msg := range fields {
			switch {
			case f == "spec.reason" || f == "reason":
				data.Errors["reason"] = label + msg
			case f == "spec.duration" || f == "duration":
				data.Errors["duration"] = label + msg
			case f == "spec.start" || f == "start":
				data.Errors["start"] = label + msg
			default:
				data.Problem = label + f + ": " + msg + ". Nothing was requested."
			}
		}
		refuse()
		return
	}
	if len(res) == 1 {
		uiRedirect(w, r, "/requests/"+res[0].Request.Metadata.Name, "Request sent: it "+strings.Join(res[0].Notes, "; ")+".")
		return
	}
	ids := make([]string, len(res))
	for i, x := range res {
		ids[i] = requestWhat(x.Request.Spec.(*resource.AccessRequestSpec))
	}
	uiRedirect(w, r, "/", fmt.Sprintf("%d requests sent: %s. They are listed under Waiting for review.", len(res), strings.Join(ids, "; ")))
}

// ---- the request pages ----

type requestsPage struct {
	Flash   string
	Problem string
	States  []string
	Rows    []requestRow
	State   string
	Next    string
}

// uiRequests is a page of the person's own requests, in the order they were made.
func (s *Server) uiRequests(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	data := requestsPage{Flash: uiFlash(r), States: []string{resource.StatePending, resource.StateApproved, resource.StateDenied, resource.StateExpired, resource.StateCancelled}}
	opts := store.ListOptions{After: q.Get("after"), Limit: requestsPerPage + 1, Filters: store.Filter(resource.IndexUser, p.User)}
	if st := q.Get("state"); st != "" {
		state, err := ParseRequestState(st)
		if err != nil {
			s.uiFail(w, r, "/requests", &resource.FieldError{Field: "state", Message: err.Error()})
			return
		}
		data.State = state
		opts.Filters = append(opts.Filters, store.Filter(resource.IndexState, state)...)
	}
	objs, err := s.store.List(r.Context(), resource.KindAccessRequest, opts)
	if err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	now := s.now()
	for i, o := range objs {
		if i == requestsPerPage {
			data.Next = objs[i-1].Metadata.Name
			break
		}
		access.Expire(o.Spec.(*resource.AccessRequestSpec), o.Metadata.CreatedAt, s.pending(), now)
		data.Rows = append(data.Rows, rowOf(o))
	}
	s.uiRender(w, r, http.StatusOK, "requests", data)
}

// timelineEvent is one line of a request's history.
type timelineEvent struct {
	Time   time.Time
	Text   string
	Reason string
}

type requestPage struct {
	Flash, Problem string
	ID             string
	Req            *resource.AccessRequestSpec
	Row            requestRow
	Created        time.Time
	Expires        time.Time // when a pending request stops waiting
	// Terms: nil when the requester may no longer make it (TermsErr says why).
	Terms              *access.Terms
	TermsErr           string
	Approvals, Denials int
	Timeline           []timelineEvent
	Grants             []GrantState
	Open               bool // approved and in its window
	// Live is how often (seconds) the page's moving part is fetched again: 0 once it has settled.
	Live                 int
	Reviewers            reviewers
	MayReview, StepUpOK  bool
	ReviewWhyNot         string
	MayCancel, MayRevoke bool
	Errors               map[string]string
	ReviewReason         string
	Duration             string // the duration asked for, for people
	IsRequester          bool
}

func (s *Server) uiRequest(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s.renderRequest(w, r, p, http.StatusOK, uiFlash(r), nil, "")
}

// renderRequest shows request {id} to p, who must be allowed to read it (mayRead): others get the
// API's 403 (or 404), never the request.
func (s *Server) renderRequest(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, flash string, errs map[string]string, reason string) {
	ctx := r.Context()
	id := r.PathValue("id")
	o, err := s.showRequest(ctx, p, id)
	if err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	req := o.Spec.(*resource.AccessRequestSpec)
	now := s.now()
	data := requestPage{Flash: flash, ID: o.Metadata.Name, Req: req, Row: rowOf(o), Created: o.Metadata.CreatedAt,
		Expires: o.Metadata.CreatedAt.Add(s.pending()), Errors: errs, ReviewReason: reason, IsRequester: req.User == p.User}
	if data.Errors == nil {
		data.Errors = map[string]string{}
	}
	data.Duration = req.Duration
	if d, err := time.ParseDuration(req.Duration); err == nil && d > 0 {
		data.Duration = web.FormatDuration(d)
	}
	if terms, err := s.terms(ctx, req); err != nil {
		if code, _ := errorBody(err); code >= 500 {
			s.uiFail(w, r, "/", err)
			return
		}
		data.TermsErr = err.Error()
	} else {
		data.Terms = terms
	}
	for _, rv := range req.Reviews {
		if rv.Decision == resource.DecisionApprove {
			data.Approvals++
		} else {
			data.Denials++
		}
	}
	var ends []*resource.AuditEntrySpec
	if req.State != resource.StatePending && req.State != resource.StateApproved {
		// The audit log's entries about this request (its name index): who ended it, and why.
		if ends, _, err = audit.Search(ctx, s.store, audit.Query{Kind: resource.KindAccessRequest, Name: o.Metadata.Name, Limit: 20}); err != nil {
			s.uiFail(w, r, "/", err)
			return
		}
	}
	data.Timeline = timeline(o, ends)
	if data.Grants, err = s.grantStates(ctx, o.Metadata.Name); err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	data.Open = req.State == resource.StateApproved && req.Start != nil && !now.Before(*req.Start)
	switch {
	case req.State == resource.StatePending:
		data.Live = 3 // reviews come
	case req.State == resource.StateApproved && !data.Open:
		data.Live = 30 // nothing moves until the window opens
	case req.State == resource.StateApproved:
		if len(data.Grants) == 0 || slices.ContainsFunc(data.Grants, func(g GrantState) bool { return g.State != "granted" }) {
			data.Live = 3 // the sync makes the assignments
		}
	}
	cat, all, err := s.catalog(ctx)
	if err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	if data.Reviewers, err = s.reviewersOf(ctx, req, cat, all); err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	if req.State == resource.StatePending {
		if err := s.mayReview(ctx, p, req); err == nil {
			data.MayReview = true
			data.StepUpOK = s.stepUpFresh(p)
		} else if !data.IsRequester {
			data.ReviewWhyNot = err.Error()
		}
	}
	active := req.State == resource.StatePending || (req.State == resource.StateApproved && (req.End == nil || now.Before(*req.End)))
	data.MayCancel = active && data.IsRequester
	data.MayRevoke = active && p.Admin && !data.IsRequester && req.State == resource.StateApproved
	s.uiRender(w, r, status, "request", data)
}

// timeline is a request's history: made, each review, its window, and how it ended. Who ended it
// (cancelled, revoked, warden's expiry or revocation) is read from the audit log's entries about
// the request (ends, the newest first); without one the request's own record says what it can.
func timeline(o *resource.Object, ends []*resource.AuditEntrySpec) []timelineEvent {
	req := o.Spec.(*resource.AccessRequestSpec)
	out := []timelineEvent{{Time: o.Metadata.CreatedAt, Text: req.User + " asked for " + requestWhat(req), Reason: req.Reason}}
	for _, rv := range req.Reviews {
		verb := "approved"
		if rv.Decision == resource.DecisionDeny {
			verb = "denied"
		}
		out = append(out, timelineEvent{Time: rv.Created, Text: rv.Author + " " + verb, Reason: rv.Reason})
	}
	last := o.Metadata.CreatedAt
	if n := len(req.Reviews); n > 0 {
		last = req.Reviews[n-1].Created
	}
	switch req.State {
	case resource.StateApproved, resource.StateExpired, resource.StateCancelled:
		if req.Start != nil && req.End != nil {
			out = append(out, timelineEvent{Time: *req.Start, Text: "access window opens, until " + req.End.UTC().Format("2006-01-02 15:04 UTC")})
		}
	}
	ended := false
	for _, e := range ends {
		text := ""
		switch {
		case e.Action == "cancel":
			text = e.Actor + " cancelled it"
			if req.End != nil {
				text = e.Actor + " ended it early"
			}
		case e.Action == "revoke" && e.Actor == "warden":
			text = "warden ended it"
		case e.Action == "revoke":
			text = e.Actor + " revoked it"
		case e.Action == "expire" && req.End != nil:
			text = "its window closed"
		case e.Action == "expire":
			text = "it expired: not reviewed in time"
		default:
			continue
		}
		out = append(out, timelineEvent{Time: e.Time, Text: text, Reason: e.Detail})
		ended = true
	}
	switch {
	case ended:
	case req.State == resource.StateExpired && req.End != nil:
		out = append(out, timelineEvent{Time: *req.End, Text: "its window closed"})
	case req.State == resource.StateExpired:
		out = append(out, timelineEvent{Time: last, Text: "it expired: not reviewed in time"})
	case req.State == resource.StateCancelled:
		t := last
		if req.End != nil {
			t = *req.End
		}
		text := "cancelled"
		if req.EndReason != "" {
			text = "warden ended it"
		}
		out = append(out, timelineEvent{Time: t, Text: text, Reason: req.EndReason})
	}
	slices.SortStableFunc(out, func(a, b timelineEvent) int { return a.Time.Compare(b.Time) })
	return out
}

// back is where a form returns to: its back field when it is a local path, else the request page.
func back(r *http.Request) string {
	if b := r.PostFormValue("back"); b != "" {
		return SafeNext(b)
	}
	return "/requests/" + url.PathEscape(r.PathValue("id"))
}

func (s *Server) uiReview(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	to := back(r)
	in := RequestReview{Decision: strings.ToUpper(r.PostFormValue("decision")), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if len(in.Reason) > maxReasonLen {
		s.uiReviewRefused(w, r, p, to, &resource.FieldError{Field: "reason", Message: fmt.Sprintf("is longer than %d characters", maxReasonLen)}, in.Reason)
		return
	}
	o, err := s.reviewRequest(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		s.uiReviewRefused(w, r, p, to, err, in.Reason)
		return
	}
	req := o.Spec.(*resource.AccessRequestSpec)
	msg := "Your review is recorded; the request still waits for more."
	switch req.State {
	case resource.StateApproved:
		msg = "Approved: " + requestWhat(req) + " for " + req.User + "."
	case resource.StateDenied:
		msg = "Denied: " + requestWhat(req) + " for " + req.User + "."
	}
	uiRedirect(w, r, to, msg)
}

// uiReviewRefused shows a refused review: beside its field on the request page when the form came
// from there, else the error page returning to where it came from.
func (s *Server) uiReviewRefused(w http.ResponseWriter, r *http.Request, p *auth.Principal, to string, err error, reason string) {
	fields, ok := uiFieldErrors(err)
	if ok && r.PostFormValue("back") == "" {
		errs := map[string]string{}
		for f, m := range fields {
			switch f {
			case "decision", "reason":
				errs[f] = m
			default:
				errs["review"] = strings.TrimPrefix(f+": ", ": ") + m
			}
		}
		s.renderRequest(w, r, p, http.StatusBadRequest, "", errs, reason)
		return
	}
	s.uiFail(w, r, to, err)
}

func (s *Server) uiCancel(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	o, err := s.cancelRequest(r.Context(), p, r.PathValue("id"))
	s.uiEnd(w, r, o, err)
}

func (s *Server) uiRevoke(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	o, err := s.revokeRequest(r.Context(), p, r.PathValue("id"))
	s.uiEnd(w, r, o, err)
}

// uiEnd answers a cancel or a revoke.
func (s *Server) uiEnd(w http.ResponseWriter, r *http.Request, o *resource.Object, err error) {
	to := back(r)
	if err != nil {
		s.uiFail(w, r, to, err)
		return
	}
	req := o.Spec.(*resource.AccessRequestSpec)
	msg := "Cancelled: " + requestWhat(req) + "."
	if req.End != nil {
		msg = "Ended: " + requestWhat(req) + ". Its assignments are being removed from Identity Center."
	}
	uiRedirect(w, r, to, msg)
}
