package server

// The administrators' pages: the audit log (/audit), administration (/admin: the sync, users,
// identity settings) and the guided integration (/admin/setup, ui_admin_setup.go). Every page and
// export answers 403 to anyone who is not an administrator; every change needs a recent second
// factor (s.stepUp), as the API's. The pages call the API's own code: audit.Search (the log's
// pages), auditVerifyResult, syncPlanResult and syncApplyResult, previewResult, importResult,
// setSP, the engine's Uninstall, manage.Update for a user, endSession and revokeTokenOf.

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/internal/audit"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/web"
)

// uiAdminRoutes: audit (/audit), administration (/admin), the guided integration (/admin/setup).
func (s *Server) uiAdminRoutes() {
	s.handle("GET /audit", s.uiAdmin(web.SectionAudit, s.auditPage))
	s.handle("GET /audit/export.csv", s.uiAdmin(web.SectionAudit, s.auditExport("csv")))
	s.handle("GET /audit/export.json", s.uiAdmin(web.SectionAudit, s.auditExport("json")))
	s.handle("POST /audit/verify", s.uiAdmin(web.SectionAudit, s.auditVerifyStart))

	s.handle("GET /admin", s.uiAdmin(web.SectionAdmin, s.adminPage))
	s.handle("POST /admin/sync/plan", s.uiAdmin(web.SectionAdmin, s.adminSyncPlan))
	s.handle("POST /admin/sync/apply", s.uiAdmin(web.SectionAdmin, s.adminSyncApply))
	s.uiAdminUserRoutes()  // ui_admin_users.go: /admin/users, /admin/identity
	s.uiAdminSetupRoutes() // ui_admin_setup.go: /admin/setup
}

// adminState is what the administrators' pages keep in memory between requests (per server, not
// shared by replicas): the last verification of the audit chain, the last connection test and the
// guided integration's last preview and import.
type adminState struct {
	mu        sync.Mutex
	verify    *verifyRun
	verifying *verifyRun // the run in progress (Started set)
	conn      *connTest
	previewed time.Time
	imported  *importRun
	scimTest  *scimTestRun
}

// verifyRun is one walk of the audit chain: when, how long it took, what it found.
type verifyRun struct {
	Started time.Time
	Took    time.Duration
	By      string
	Result  AuditVerifyResponse
	Err     string
}

// adminStates holds each server's adminState (the pages' memory, beside the Server it belongs to).
var adminStates sync.Map // *Server -> *adminState

func (s *Server) adminState() *adminState {
	v, _ := adminStates.LoadOrStore(s, &adminState{})
	return v.(*adminState)
}

// uiAdmin wraps an administrators' page: anyone else gets the 403 page (never the data).
func (s *Server) uiAdmin(section string, h uiHandler) http.HandlerFunc {
	return s.ui(section, func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		if !p.Admin {
			s.uiRender(w, r, http.StatusForbidden, "error", web.ErrorData{Title: "Forbidden",
				Message: "Only warden administrators may see this page.", Back: "/"})
			return
		}
		h(w, r, p)
	})
}

// uiAdminFail is uiFail, with the sync's refusals the API answers 409 or 503 (the sync is off, this
// replica does not lead it, the integration was uninstalled) shown with that status.
func (s *Server) uiAdminFail(w http.ResponseWriter, r *http.Request, back string, err error) {
	code := 0
	switch {
	case errors.Is(err, errSyncOff):
		code = http.StatusServiceUnavailable
	case errors.Is(err, reconcile.ErrNotLeader), errors.Is(err, reconcile.ErrUninstalled):
		code = http.StatusConflict
	}
	if code == 0 {
		s.uiFail(w, r, back, err)
		return
	}
	s.uiRender(w, r, code, "error", web.ErrorData{Title: http.StatusText(code), Message: err.Error(), Back: back})
}

// syncRefusal says whether err is one of the sync's refusals (off, not the leader, uninstalled),
// which uiAdminFail shows with the API's status; any other error of the sync's (Identity Center's
// answer, say) is shown to the administrator on the page, as the API tells administrators.
func syncRefusal(err error) bool {
	return errors.Is(err, errSyncOff) || errors.Is(err, reconcile.ErrNotLeader) || errors.Is(err, reconcile.ErrUninstalled)
}

// live says whether the request is a live part's refresh (assets/ui.js), naming the part.
func live(r *http.Request) string { return r.Header.Get("X-Warden-Live") }

// ---- the audit log ----

// auditSearch is the audit page's search form, as typed.
type auditSearch struct {
	Actor, Kind, Name, Since, Until string
}

// values is the search as a query string (without the cursor), for links and exports.
func (a auditSearch) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"actor": a.Actor, "kind": a.Kind, "name": a.Name, "since": a.Since, "until": a.Until} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// maxSearchField bounds each field of the audit search.
const maxSearchField = 256

// auditKinds are the kinds the audit page offers to search by.
var auditKinds = []resource.Kind{resource.KindUser, resource.KindRole, resource.KindAccessList, resource.KindAccessListMember,
	resource.KindAccessRequest, resource.KindPermissionSet, resource.KindAccount, resource.KindAPIToken, resource.KindSession,
	resource.KindSyncRecord, resource.KindSAMLServiceProvider, resource.KindSAMLKey, resource.KindPasskey, resource.KindCredential}

// parseAuditSearch reads the search from the query; errors are by field (actor, kind, name, since,
// until, before).
func parseAuditSearch(q url.Values) (auditSearch, audit.Query, map[string]string) {
	a := auditSearch{Actor: strings.TrimSpace(q.Get("actor")), Kind: q.Get("kind"), Name: strings.TrimSpace(q.Get("name")),
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))}
	errs := map[string]string{}
	aq := audit.Query{Actor: a.Actor, Name: a.Name}
	for field, v := range map[string]string{"actor": a.Actor, "name": a.Name, "since": a.Since, "until": a.Until} {
		if len(v) > maxSearchField {
			errs[field] = fmt.Sprintf("at most %d characters", maxSearchField)
		}
	}
	if a.Kind != "" {
		k, err := ParseAuditKind(a.Kind)
		if err != nil {
			errs["kind"] = err.Error()
		}
		aq.Kind = k
	}
	for _, f := range []struct {
		name, v string
		to      *time.Time
		end     bool
	}{{"since", a.Since, &aq.Since, false}, {"until", a.Until, &aq.Until, true}} {
		if f.v == "" || errs[f.name] != "" {
			continue
		}
		t, err := parseSearchTime(f.v, f.end)
		if err != nil {
			errs[f.name] = err.Error()
		}
		*f.to = t
	}
	if !aq.Since.IsZero() && !aq.Until.IsZero() && aq.Until.Before(aq.Since) {
		errs["until"] = "before the start of the range"
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			errs["before"] = fmt.Sprintf("%s is not an entry's sequence number", quoted(v))
		}
		aq.Before = n
	}
	return a, aq, errs
}

// parseSearchTime reads a time of the search, in UTC: RFC 3339, a datetime-local field's
// 2006-01-02T15:04, or a day (the range's end: the day's last second).
func parseSearchTime(v string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			if end && layout != "2006-01-02T15:04:05" {
				t = t.Add(time.Minute - time.Nanosecond)
			}
			return t, nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", v, time.UTC); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s is not a time: give 2006-01-02T15:04 (UTC), a day 2006-01-02, or RFC 3339", quoted(v))
}

// auditPageData is the audit page.
type auditPageData struct {
	Flash   string
	Problem string
	Search  auditSearch
	Kinds   []resource.Kind
	Errors  map[string]string
	Entries []auditRow
	// Paged: the page is not the newest; Next is the link to the older page.
	Paged      bool
	Next       string
	Newest     string
	ExportCSV  string
	ExportJSON string
	ExportMax  string
	Head       audit.Head
	Verify     *verifyRun
	Verifying  *verifyRun
}

// auditRow is one entry as the page shows it.
type auditRow struct {
	*resource.AuditEntrySpec
	Object string
	// Link is the page of the entry's subject, when it has one (a user, a list, a request).
	Link string
	Diff []diffLine
	// Created/Deleted: the entry has only an after (a creation) or only a before (a deletion).
	Created, Deleted bool
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	search, q, errs := parseAuditSearch(r.URL.Query())
	d := auditPageData{Flash: uiFlash(r), Search: search, Kinds: auditKinds, Errors: errs, ExportMax: thousands(auditExportMax)}
	st := s.adminState()
	st.mu.Lock()
	d.Verify, d.Verifying = st.verify, st.verifying
	st.mu.Unlock()
	if live(r) == "audit-verify" { // the verification part refreshing: nothing else to read
		s.uiRender(w, r, http.StatusOK, "audit", d)
		return
	}
	head, err := audit.ReadHead(r.Context(), s.store)
	if err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	d.Head = head
	if len(errs) > 0 {
		s.uiRender(w, r, http.StatusBadRequest, "audit", d)
		return
	}
	entries, next, err := audit.Search(r.Context(), s.store, q)
	if err != nil {
		s.uiFail(w, r, "/audit", err)
		return
	}
	for _, e := range entries {
		d.Entries = append(d.Entries, auditRowOf(e))
	}
	v := search.values()
	d.ExportCSV, d.ExportJSON = "/audit/export.csv", "/audit/export.json"
	d.Newest = "/audit"
	if enc := v.Encode(); enc != "" {
		d.ExportCSV += "?" + enc
		d.ExportJSON += "?" + enc
		d.Newest += "?" + enc
	}
	d.Paged = q.Before > 0
	if next > 0 {
		v.Set("before", strconv.FormatInt(next, 10))
		d.Next = "/audit?" + v.Encode()
	}
	s.uiRender(w, r, http.StatusOK, "audit", d)
}

func auditRowOf(e *resource.AuditEntrySpec) auditRow {
	row := auditRow{AuditEntrySpec: e, Diff: auditDiff(e.Before, e.After)}
	if e.Kind != "" {
		row.Object = string(e.Kind) + "/" + e.Name
	}
	switch e.Kind {
	case resource.KindUser:
		row.Link = userPath(e.Name)
	case resource.KindAccessList:
		row.Link = "/lists/" + url.PathEscape(e.Name)
	case resource.KindAccessListMember:
		if list, _, ok := strings.Cut(e.Name, "/"); ok {
			row.Link = "/lists/" + url.PathEscape(list)
		}
	case resource.KindAccessRequest:
		row.Link = "/requests/" + url.PathEscape(e.Name)
	}
	row.Created = len(e.Before) == 0 && len(e.After) > 0
	row.Deleted = len(e.Before) > 0 && len(e.After) == 0
	return row
}

// diffLine is one field an entry changed: its path (spec.owners) and its value before and after
// ("" when absent).
type diffLine struct {
	Field, Before, After string
}

// maxDiffValue bounds a value shown in a diff.
const maxDiffValue = 400

// auditDiff lists the fields that differ between an entry's before and after (every field, for a
// creation or a deletion), by path, sorted; the store's bookkeeping (revision, times) left out.
func auditDiff(before, after json.RawMessage) []diffLine {
	b, a := map[string]string{}, map[string]string{}
	flattenJSON(before, b)
	flattenJSON(after, a)
	var fields []string
	for k := range b {
		fields = append(fields, k)
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			fields = append(fields, k)
		}
	}
	slices.Sort(fields)
	var out []diffLine
	for _, f := range fields {
		switch f {
		case "metadata.revision", "metadata.created_at", "metadata.updated_at":
			continue
		}
		if b[f] != a[f] {
			out = append(out, diffLine{Field: f, Before: b[f], After: a[f]})
		}
	}
	return out
}

// flattenJSON puts an object's leaves into out by dotted path; lists stay whole (as JSON), strings
// unquoted.
func flattenJSON(raw json.RawMessage, out map[string]string) {
	if len(raw) == 0 {
		return
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		out["(entry)"] = shorten(string(raw))
		return
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			if len(t) == 0 && prefix != "" {
				out[prefix] = "{}"
			}
			for k, x := range t {
				if prefix != "" {
					k = prefix + "." + k
				}
				walk(k, x)
			}
		case string:
			out[prefix] = shorten(t)
		default:
			b, _ := json.Marshal(t)
			out[prefix] = shorten(string(b))
		}
	}
	walk("", v)
}

func shorten(v string) string {
	if len(v) > maxDiffValue {
		return v[:maxDiffValue] + "…"
	}
	return v
}

// auditExportMax bounds an export: a larger log is exported in parts, narrowed by the search.
const auditExportMax = 100_000

// auditExport streams the entries of the page's search (all its pages, newest first, at most
// auditExportMax) as CSV or JSON, read a thousand at a time.
func (s *Server) auditExport(format string) uiHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		_, q, errs := parseAuditSearch(r.URL.Query())
		if len(errs) > 0 {
			var msgs []string
			for f, m := range errs {
				msgs = append(msgs, f+": "+m)
			}
			slices.Sort(msgs)
			s.uiRender(w, r, http.StatusBadRequest, "error", web.ErrorData{Title: "Bad Request", Message: strings.Join(msgs, "; "), Back: "/audit"})
			return
		}
		q.Limit = audit.MaxPageSize
		first, next, err := audit.Search(r.Context(), s.store, q)
		if err != nil {
			s.uiFail(w, r, "/audit", err)
			return
		}
		web.SetSecurityHeaders(w.Header())
		name := "warden-audit-" + s.now().UTC().Format("20060102T150405Z") + "." + format
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		var cw *csv.Writer
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			cw = csv.NewWriter(w)
			cw.Write([]string{"seq", "time", "actor", "action", "kind", "name", "detail", "token", "token_issuer", "before", "after", "prev", "hash", "alg"})
		} else {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("[\n"))
		}
		n := 0
		for page := first; len(page) > 0; {
			for _, e := range page {
				if n == auditExportMax {
					break
				}
				if cw != nil {
					cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), csvCell(e.Actor), e.Action,
						string(e.Kind), csvCell(e.Name), csvCell(e.Detail), e.Token, csvCell(e.TokenIssuer), string(e.Before), string(e.After),
						e.Prev, e.Hash, e.Alg})
				} else {
					b, _ := json.Marshal(e)
					if n > 0 {
						w.Write([]byte(",\n"))
					}
					w.Write(b)
				}
				n++
			}
			if cw != nil {
				cw.Flush()
			}
			if next == 0 || n == auditExportMax || r.Context().Err() != nil {
				break
			}
			q.Before = next
			if page, next, err = audit.Search(r.Context(), s.store, q); err != nil {
				s.log.Error("audit export: reading a page failed; the export is cut short", "err", err)
				break
			}
		}
		if cw == nil {
			w.Write([]byte("\n]\n"))
		}
	}
}

// thousands writes n with thousands separated by commas (100,000).
func thousands(n int) string {
	v := strconv.Itoa(n)
	for i := len(v) - 3; i > 0; i -= 3 {
		v = v[:i] + "," + v[i:]
	}
	return v
}

// csvCell keeps a spreadsheet from reading a cell as a formula (a value someone typed, such as a
// reason, that begins with = + - or @): such a cell gets a leading apostrophe.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// auditVerifyStart walks the chain in the background (100,000 entries take seconds): the page
// shows the run in progress, then its result.
func (s *Server) auditVerifyStart(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	st := s.adminState()
	st.mu.Lock()
	if st.verifying != nil {
		st.mu.Unlock()
		uiRedirect(w, r, "/audit", "A verification is running already.")
		return
	}
	run := &verifyRun{Started: s.now(), By: p.User}
	st.verifying = run
	st.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		start := time.Now()
		res, err := s.auditVerifyResult(ctx, "")
		run.Took = time.Since(start)
		run.Result = res
		if err != nil {
			run.Err = err.Error()
		}
		st.mu.Lock()
		st.verify, st.verifying = run, nil
		st.mu.Unlock()
	}()
	uiRedirect(w, r, "/audit", "Verification of the audit chain started.")
}

// ---- administration: the sync ----

// adminPageData is the administration page.
type adminPageData struct {
	Flash, Problem string
	SyncOn         bool
	Status         reconcile.Status
	// Live: the sync has work under way; its part refreshes.
	Live bool
	// Plan is a plan just computed (Applied false) or an apply's result (Applied true).
	Plan        *SyncPlanResponse
	Applied     bool
	StepUpDone  bool
	Uninstalled bool
	// DeleteInAWS: the plan deletes what warden adopted and released (warden sync plan --delete-in-aws).
	DeleteInAWS bool
	// RoleWarnings: roles whose requests end before the sessions they allow (session_duration.go).
	RoleWarnings []Warning
}

func (s *Server) adminData(r *http.Request) adminPageData {
	d := adminPageData{Flash: uiFlash(r), SyncOn: s.sync != nil}
	if s.sync != nil {
		d.Status = s.sync.Status()
		d.Live = syncLive(d.Status)
		d.Uninstalled = s.uninstalled(r.Context())
		d.Live = d.Live && !d.Uninstalled
	}
	return d
}

// uninstalled says whether the integration was uninstalled (the engine's mark, a sync record).
func (s *Server) uninstalled(ctx context.Context) bool {
	_, err := s.store.Get(ctx, resource.KindSyncRecord, reconcile.UninstalledKey)
	return err == nil
}

// syncLive says whether the sync's status is moving (a run, operations pending, not yet
// converged): the page refreshes it every 2 s, and every 5 s once settled (a change made in warden
// sets it moving again at any time).
func syncLive(st reconcile.Status) bool { return !syncSettled(st) }

// syncSettled: the last run converged and nothing is under way (the status's Converged is the last
// run's, and stays set while a new run applies).
func syncSettled(st reconcile.Status) bool {
	return st.Converged && !st.Running && st.Pending == 0 && st.Progress.InFlight == 0
}

func (s *Server) adminPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	d := s.adminData(r)
	d.StepUpDone = s.stepUpFresh(p)
	var err error
	if d.RoleWarnings, err = s.roleSessionWarnings(r.Context()); err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	s.uiRender(w, r, http.StatusOK, "admin", d)
}

func (s *Server) adminSyncPlan(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if s.sync == nil {
		s.uiAdminFail(w, r, "/admin", errSyncOff)
		return
	}
	req := SyncRequest{DeleteInAWS: r.PostForm.Get("delete_in_aws") == "on"}
	out, err := s.syncPlanResult(r.Context(), req)
	if err != nil && !syncRefusal(err) && !errors.Is(err, context.Canceled) {
		d := s.adminData(r)
		d.StepUpDone = s.stepUpFresh(p)
		d.Problem = "Computing the plan failed: " + err.Error()
		s.uiRender(w, r, http.StatusBadGateway, "admin", d)
		return
	}
	if err != nil {
		s.uiAdminFail(w, r, "/admin", err)
		return
	}
	d := s.adminData(r)
	d.StepUpDone = s.stepUpFresh(p)
	d.Plan, d.DeleteInAWS = &out, req.DeleteInAWS
	s.uiRender(w, r, http.StatusOK, "admin", d)
}

func (s *Server) adminSyncApply(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if s.sync == nil {
		s.uiAdminFail(w, r, "/admin", errSyncOff)
		return
	}
	if err := s.stepUp(p, "applying the sync (an administrative change)"); err != nil {
		s.uiFail(w, r, "/admin", err)
		return
	}
	req := SyncRequest{DeleteInAWS: r.PostForm.Get("delete_in_aws") == "on", Force: r.PostForm.Get("force") == "on"}
	out, applied, err := s.syncApplyResult(r.Context(), req)
	if !applied && !syncRefusal(err) && !errors.Is(err, context.Canceled) {
		d := s.adminData(r)
		d.StepUpDone = true
		d.Problem = "The apply did not run: " + err.Error()
		s.uiRender(w, r, http.StatusBadGateway, "admin", d)
		return
	}
	if !applied {
		s.uiAdminFail(w, r, "/admin", err)
		return
	}
	d := s.adminData(r)
	d.StepUpDone = true
	d.Plan, d.Applied, d.DeleteInAWS = &out, true, req.DeleteInAWS
	if errors.Is(err, reconcile.ErrBrake) {
		d.Problem = "The safety brake held the plan: " + out.Brake + ". Nothing it holds was applied; apply again with “apply despite the safety brake” once you have read the plan."
	} else if err != nil {
		d.Problem = "The apply ran, and some of it failed: " + err.Error()
	}
	s.uiRender(w, r, http.StatusOK, "admin", d)
}

// TookText is how long the run took, for people (to the millisecond).
func (v *verifyRun) TookText() string { return v.Took.Round(time.Millisecond).String() }
