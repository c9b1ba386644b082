package server

// The web UI's server time per page at the issue's scale: 50,000 users, 5,000 access lists (each a
// role of five account × permission set pairs, ten members), 100,000 audit entries, 10,000 access
// requests, in SQLite. BenchmarkUIPages reports each page's p95 in milliseconds (target: under
// 50 ms for every page, the catalog search included):
//
//	go test ./internal/server -run '^$' -bench UIPages -benchtime 200x
//
// The store is built once per process (about a minute) and shared by the sub-benchmarks.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/store/sqlite"
	"github.com/wardenhq/warden/internal/testenv"
)

// The scale of the fixture.
const (
	scaleUsers    = 50000
	scaleLists    = 5000
	scaleMembers  = 10 // per list
	scaleAudit    = 100000
	scaleRequests = 10000
	scaleAccounts = 100
	scaleSets     = 50
)

// The people the pages are shown to.
const (
	scaleAdmin     = "user00000@example.com" // administrator, owner of every list
	scaleRequester = "user00010@example.com" // may request the requestable-* roles and any pair
	scaleReviewer  = "user00001@example.com" // reviews requests for requestable-* roles
)

type uiScale struct {
	srv     *Server
	dir     string
	cookies map[string]*http.Cookie
	// request is a request of the requester's, for the request page.
	request string
}

var (
	scaleDir  string
	scaleOnce sync.Once
	scaleFix  *uiScale
	scaleErr  error
)

func scaleAccountID(i int) string { return fmt.Sprintf("%012d", 100000000000+i%scaleAccounts) }

func scaleUser(i int) string { return fmt.Sprintf("user%05d@example.com", i%scaleUsers) }

// buildScale writes the fixture into a new SQLite store.
func buildScale(ctx context.Context, st store.Store) (request string, err error) {
	var objs []*resource.Object
	flush := func() error {
		for len(objs) > 0 {
			n := min(len(objs), 5000)
			if err := st.CreateMany(ctx, objs[:n]); err != nil {
				return err
			}
			objs = objs[n:]
		}
		return nil
	}
	for i := 0; i < scaleAccounts; i++ {
		a := resource.New(resource.KindAccount, scaleAccountID(i))
		a.Spec = &resource.AccountSpec{Name: fmt.Sprintf("account-%04d", i)}
		objs = append(objs, a)
	}
	for i := 0; i < scaleSets; i++ {
		p := resource.New(resource.KindPermissionSet, fmt.Sprintf("PS%03d", i))
		p.Spec = &resource.PermissionSetSpec{ARN: fmt.Sprintf("arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-%016d", i)}
		objs = append(objs, p)
	}
	// Ten requestable roles; "requester" may ask for them and for any pair; "reviewer" reviews them.
	for i := 0; i < 10; i++ {
		r := resource.New(resource.KindRole, fmt.Sprintf("requestable-%d", i))
		r.Spec = &resource.RoleSpec{Allow: resource.RoleConditions{AccountAssignments: []resource.AccountAssignment{
			{Account: scaleAccountID(i), PermissionSet: fmt.Sprintf("PS%03d", i)}}}}
		objs = append(objs, r)
	}
	req := resource.New(resource.KindRole, "requester")
	req.Spec = &resource.RoleSpec{Allow: resource.RoleConditions{Request: &resource.RequestConditions{
		Roles: []string{"requestable-*"}, AccountAssignments: []resource.AccountAssignment{{Account: "*", PermissionSet: "*"}}, MaxDuration: "4h"}}}
	rev := resource.New(resource.KindRole, "reviewer")
	rev.Spec = &resource.RoleSpec{Allow: resource.RoleConditions{ReviewRequests: &resource.ReviewConditions{Roles: []string{"requestable-*"}}}}
	objs = append(objs, req, rev)
	for i := 0; i < scaleUsers; i++ {
		u := resource.New(resource.KindUser, scaleUser(i))
		spec := &resource.UserSpec{DisplayName: fmt.Sprintf("User %d", i), Email: scaleUser(i)}
		switch {
		case i == 0:
			spec.Admin = true
		case i == 1:
			spec.Roles = []string{"reviewer"}
		case i%10 == 0:
			spec.Roles = []string{"requester"}
		}
		u.Spec = spec
		objs = append(objs, u)
	}
	for i := 0; i < scaleLists; i++ {
		role := resource.New(resource.KindRole, fmt.Sprintf("role%04d", i))
		spec := &resource.RoleSpec{}
		for j := 0; j < 5; j++ {
			spec.Allow.AccountAssignments = append(spec.Allow.AccountAssignments, resource.AccountAssignment{
				Account: scaleAccountID(i*7 + j*13), PermissionSet: fmt.Sprintf("PS%03d", (i+j)%scaleSets)})
		}
		role.Spec = spec
		l := resource.New(resource.KindAccessList, fmt.Sprintf("list%04d", i))
		l.Spec = &resource.AccessListSpec{Title: fmt.Sprintf("List %04d", i), Owners: []string{scaleAdmin},
			Grants: resource.Grants{Roles: []string{role.Metadata.Name}}}
		objs = append(objs, role, l)
		seen := map[string]bool{}
		for j := 0; j < scaleMembers; j++ {
			who := scaleUser(i*37 + j*101)
			if seen[who] {
				continue
			}
			seen[who] = true
			m := resource.New(resource.KindAccessListMember, resource.MemberName(l.Metadata.Name, who, resource.MemberUser))
			m.Spec = &resource.AccessListMemberSpec{List: l.Metadata.Name, Member: who}
			objs = append(objs, m)
		}
	}
	if err := flush(); err != nil {
		return "", err
	}
	now := time.Now()
	for i := 0; i < scaleRequests; i++ {
		r := resource.New(resource.KindAccessRequest, fmt.Sprintf("req%05d", i))
		spec := &resource.AccessRequestSpec{User: scaleUser(i * 10), Reason: "scale", Duration: "1h"}
		switch i % 4 {
		case 0, 1:
			spec.State = resource.StatePending
			spec.Roles = []string{fmt.Sprintf("requestable-%d", i%10)}
		case 2:
			start, end := now.Add(-time.Minute), now.Add(time.Hour)
			spec.State, spec.Start, spec.End = resource.StateApproved, &start, &end
			spec.Roles = []string{fmt.Sprintf("requestable-%d", i%10)}
		default:
			spec.State = resource.StateDenied
			spec.Resources = []resource.RequestedResource{{Account: scaleAccountID(i), PermissionSet: fmt.Sprintf("PS%03d", i%scaleSets)}}
		}
		r.Spec = spec
		objs = append(objs, r)
		if spec.User == scaleRequester && request == "" {
			request = r.Metadata.Name
		}
	}
	if err := flush(); err != nil {
		return "", err
	}
	for done := 0; done < scaleAudit; {
		n := min(1000, scaleAudit-done)
		entries := make([]audit.Entry, 0, n)
		for j := 0; j < n; j++ {
			k := done + j
			o := resource.New(resource.KindUser, scaleUser(k))
			o.Spec = &resource.UserSpec{DisplayName: fmt.Sprintf("User %d", k)}
			entries = append(entries, audit.Entry{Actor: scaleUser(k % 50), Action: "update", After: o, Time: now.Add(time.Duration(k-scaleAudit) * time.Second)})
		}
		if err := st.Txn(ctx, func(tx store.Tx) error { return audit.Append(ctx, tx, entries...) }); err != nil {
			return "", err
		}
		done += n
	}
	return request, nil
}

// scale is the shared fixture: the store built once, a server on it, a session per person.
func scale(b *testing.B) *uiScale {
	b.Helper()
	scaleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "warden-ui-scale-")
		if err != nil {
			scaleErr = err
			return
		}
		scaleDir = dir // removed by TestMain when the benchmarks end (about 300 MB)
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "w.db"))
		if err != nil {
			scaleErr = err
			return
		}
		start := time.Now()
		req, err := buildScale(ctx, st)
		if err != nil {
			scaleErr = err
			return
		}
		fmt.Fprintf(os.Stderr, "ui scale fixture built in %s\n", time.Since(start).Round(time.Second))
		srv := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ss := auth.NewSessions(st, auth.SessionConfig{Idle: 24 * time.Hour, Absolute: 24 * time.Hour})
		go ss.Run(ctx)
		srv.SetSessions(ss)
		f := &uiScale{srv: srv, dir: dir, cookies: map[string]*http.Cookie{}, request: req}
		for _, who := range []string{scaleAdmin, scaleRequester, scaleReviewer} {
			w := httptest.NewRecorder()
			if _, err := ss.Issue(ctx, w, httptest.NewRequest("POST", "/login", nil), who, auth.MethodUse{Method: auth.MethodPassword}); err != nil {
				scaleErr = err
				return
			}
			f.cookies[who] = w.Result().Cookies()[0]
		}
		scaleFix = f
	})
	if scaleErr != nil {
		b.Fatal(scaleErr)
	}
	testenv.Eventually(b, 30*time.Second, "the sessions' feed to start", scaleFix.srv.sessions.Feeding)
	return scaleFix
}

// BenchmarkUIPages measures the server time of each page of the web UI, reporting its p95.
func BenchmarkUIPages(b *testing.B) {
	f := scale(b)
	// The audit fixture's entries are a second apart, the newest a moment before the fixture was built.
	midAudit := time.Now().Add(-scaleAudit / 2 * time.Second).UTC().Format("2006-01-02T15:04")
	pages := []struct{ name, who, path string }{
		{"account", scaleRequester, "/account"},
		// part B: the review inbox and access lists
		{"reviews", scaleReviewer, "/reviews"},
		{"reviews-admin", scaleAdmin, "/reviews"},
		{"reviews-filtered", scaleReviewer, "/reviews?what=requestable-3&q=scale"},
		{"lists", scaleRequester, "/lists"},
		{"lists-page-50", scaleRequester, "/lists?page=50"},
		{"lists-mine", scaleAdmin, "/lists?mine=1"},
		{"lists-mine-member", scaleRequester, "/lists?mine=1"},
		{"list", scaleRequester, "/lists/list0042"},
		{"list-review", scaleAdmin, "/lists/list0042/review"},
		// Part C: the audit log and administration (the administrator).
		{"audit", scaleAdmin, "/audit"},
		{"audit-actor", scaleAdmin, "/audit?actor=" + scaleUser(7)},
		{"audit-object", scaleAdmin, "/audit?kind=user&name=" + scaleUser(12345)},
		{"audit-name", scaleAdmin, "/audit?name=" + scaleUser(12345)},
		{"audit-actor-kind", scaleAdmin, "/audit?kind=user&actor=" + scaleUser(7)},
		{"audit-until", scaleAdmin, "/audit?until=" + midAudit},
		{"audit-older", scaleAdmin, "/audit?before=50001"},
		{"admin", scaleAdmin, "/admin"},
		{"admin-users", scaleAdmin, "/admin/users?after=" + scaleUser(25000)},
		{"admin-users-search", scaleAdmin, "/admin/users?q=user0123"},
		{"admin-user", scaleAdmin, "/admin/users/" + scaleRequester},
		{"admin-identity", scaleAdmin, "/admin/identity"},
		{"setup", scaleAdmin, "/admin/setup"},
		{"setup-aws", scaleAdmin, "/admin/setup/aws?trust=058264527036"},
		{"setup-import", scaleAdmin, "/admin/setup/import"},
		// Part A: My access, Request access, the request pages.
		{"my-access", scaleRequester, "/"},
		{"catalog", scaleRequester, "/request"},
		{"catalog-search", scaleRequester, "/request?q=account-0042&item=role:requestable-1"},
		{"checkout", scaleRequester, "/request/checkout?item=role:requestable-1&item=aa:" + scaleAccountID(42) + ":PS007"},
		{"request", scaleRequester, "/requests/" + f.request},
		{"request-reviewer", scaleReviewer, "/requests/" + f.request},
		{"my-requests", scaleRequester, "/requests"},
	}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			var times []time.Duration
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest("GET", pg.path, nil)
				r.AddCookie(f.cookies[pg.who])
				w := httptest.NewRecorder()
				t0 := time.Now()
				f.srv.ServeHTTP(w, r)
				times = append(times, time.Since(t0))
				if w.Code != http.StatusOK {
					b.Fatalf("%s as %s: %d\n%s", pg.path, pg.who, w.Code, w.Body.String())
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
