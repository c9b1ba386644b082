package server

// The guided integration with AWS IAM Identity Center (/admin/setup), one page per step, each
// saying what is done and what is left:
//
//	1 /admin/setup/aws              the IAM policy and role (JSON, Terraform, CloudShell), the
//	                                configured client, a connection test (read-only calls)
//	2 /admin/setup/preview          what Identity Center holds and what an import adds, filtered;
//	                                the default owners
//	3 /admin/setup/identity-source  warden's IdP metadata to download, Identity Center's SP metadata
//	                                to upload
//	4 /admin/setup/scim             how warden writes Identity Center's directory: identitystore,
//	                                or SCIM with its endpoint, its tokens (set one, rotate), their
//	                                expiry and a connection test
//	5 /admin/setup/import           the import and the first sync's progress, ending on every group
//	                                being an access list
//	6 /admin/setup/app              the aws-identity-center app
//	  /admin/setup/uninstall        the uninstall's plan (a dry run), then the uninstall
//
// Every write (import, SP metadata, uninstall) needs step-up, as the API's.

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/importer"
	"github.com/wardenhq/warden/internal/integration"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/web"
)

func (s *Server) uiAdminSetupRoutes() {
	s.handle("GET /admin/setup", s.uiAdmin(web.SectionAdmin, s.setupPage(0)))
	s.handle("GET /admin/setup/aws", s.uiAdmin(web.SectionAdmin, s.setupPage(1)))
	s.handle("POST /admin/setup/aws/test", s.uiAdmin(web.SectionAdmin, s.setupConnectionTest))
	s.handle("GET /admin/setup/preview", s.uiAdmin(web.SectionAdmin, s.setupPage(2)))
	s.handle("GET /admin/setup/identity-source", s.uiAdmin(web.SectionAdmin, s.setupPage(3)))
	s.handle("POST /admin/setup/identity-source", s.uiAdmin(web.SectionAdmin, s.setupSetSP))
	s.handle("GET /admin/setup/scim", s.uiAdmin(web.SectionAdmin, s.setupPage(4)))
	s.handle("POST /admin/setup/scim/token", s.uiAdmin(web.SectionAdmin, s.setupSCIMToken))
	s.handle("POST /admin/setup/scim/test", s.uiAdmin(web.SectionAdmin, s.setupSCIMTest))
	s.handle("GET /admin/setup/import", s.uiAdmin(web.SectionAdmin, s.setupPage(5)))
	s.handle("POST /admin/setup/import", s.uiAdmin(web.SectionAdmin, s.setupImport))
	s.handle("GET /admin/setup/app", s.uiAdmin(web.SectionAdmin, s.setupPage(6)))
	s.handle("GET /admin/setup/uninstall", s.uiAdmin(web.SectionAdmin, s.setupPage(7)))
	s.handle("POST /admin/setup/uninstall", s.uiAdmin(web.SectionAdmin, s.setupUninstall))
}

// setupSlugs are the steps' paths, by number (0: the overview, 7: uninstall).
var setupSlugs = []string{"", "aws", "preview", "identity-source", "scim", "import", "app", "uninstall"}

var setupTitles = []string{"The integration with AWS IAM Identity Center", "Connect warden to AWS", "Preview what Identity Center holds",
	"Make warden the identity source", "Provisioning (SCIM)", "Import and the first sync", "The aws-identity-center app", "Uninstall the integration"}

func setupPath(n int) string {
	if n == 0 {
		return "/admin/setup"
	}
	return "/admin/setup/" + setupSlugs[n]
}

// setupStep is one step in the steps' list: done, todo, wait (under way) or na (nothing to do).
type setupStep struct {
	N           int
	Path, Title string
	State, Note string
	Current     bool
}

// connTest is the last connection test.
type connTest struct {
	At                       time.Time
	By                       string
	OK                       bool
	Message                  string
	Took                     time.Duration
	Accounts, PermissionSets int
}

// importRun is the last import made from these pages, and the groups as a preview read them after it.
type importRun struct {
	At       time.Time
	By       string
	Stats    *importer.Stats
	Groups   []PreviewGroup
	AllLists bool
	Err      string
}

// scimTestRun is the last SCIM connection test.
type scimTestRun struct {
	At      time.Time
	By      string
	OK      bool
	Message string
}

// setupData is every setup page (Step says which).
type setupData struct {
	Flash, Problem string
	Step           int
	Title          string
	Steps          []setupStep
	Errors         map[string]string
	SyncOn         bool
	StepUpDone     bool
	Prev, Next     string

	// Step 1.
	RoleName, Trust, Principal       string
	PolicyJSON, Explained, Terraform string
	CloudShell                       string
	Region, Instance, IdentityStore  string
	RoleARN, Endpoint                string
	Conn                             *connTest

	// Step 2.
	Read     bool
	Filter   string
	Preview  *PreviewResponse
	Accounts []string
	Sets     []string
	Groups   []PreviewGroup
	Owners   string

	// Step 3 and 6.
	SAMLOn            bool
	MetadataURL       string
	EntityID          string
	SP                *resource.SAMLServiceProviderSpec
	AppURL, StartURL  string
	SPMetadata        string
	IdentitySourceSet bool

	// Step 4.
	Directory    string
	SCIMEndpoint string
	SCIMTokens   []integration.SCIMTokenInfo
	SCIMWarnings []string
	SCIMTest     *scimTestRun

	// Step 5.
	Imported bool
	Import   *importRun
	Status   reconcile.Status
	Live     bool

	// Uninstall. UninstalledNow: the integration is uninstalled (the sync stopped for good).
	UninstalledNow bool
	Uninstall      *reconcile.UninstallPlan
	DeleteGroups   bool
	Uninstalled    bool
}

// roleNameRE is an IAM role name (it goes into a shell script: nothing else is let through).
var roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func (s *Server) setupData(r *http.Request, p *auth.Principal, step int) (*setupData, error) {
	ctx := r.Context()
	d := &setupData{Flash: uiFlash(r), Step: step, Title: setupTitles[step], Errors: map[string]string{}, SyncOn: s.sync != nil,
		StepUpDone: s.stepUpFresh(p), MetadataURL: "/saml/metadata"}
	if step > 0 && step < 6 {
		d.Next = setupPath(step + 1)
	}
	if step > 1 && step < 7 {
		d.Prev = setupPath(step - 1)
	}
	st := s.adminState()
	st.mu.Lock()
	d.Conn, d.Import = st.conn, st.imported
	previewed := st.previewed
	st.mu.Unlock()
	if s.sync != nil {
		d.Status = s.sync.Status()
		d.UninstalledNow = s.uninstalled(ctx)
		d.Live = syncLive(d.Status) && !d.UninstalledNow
	}
	if idp := s.SAML(); idp != nil {
		d.SAMLOn, d.EntityID = true, idp.EntityID()
		o, err := s.store.Get(ctx, resource.KindSAMLServiceProvider, samlidp.AppName)
		switch {
		case err == nil:
			d.SP = o.Spec.(*resource.SAMLServiceProviderSpec)
			d.IdentitySourceSet = true
			d.AppURL = idp.LoginURL(samlidp.AppName)
			d.StartURL, _ = idp.StartURL(ctx, samlidp.AppName)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	imported, err := s.imported(ctx)
	if err != nil {
		return nil, err
	}
	d.Imported = imported || d.Import != nil && d.Import.Stats != nil

	// What is done and what is left.
	steps := make([]setupStep, 0, 6)
	add := func(n int, state, note string) {
		steps = append(steps, setupStep{N: n, Path: setupPath(n), Title: setupTitles[n], State: state, Note: note, Current: n == step})
	}
	switch {
	case s.sync == nil:
		add(1, "todo", "warden's config file has no identity_center section yet")
	case d.Conn != nil && d.Conn.OK:
		add(1, "done", "connection tested "+d.Conn.At.UTC().Format("2006-01-02 15:04 UTC"))
	case d.Conn != nil:
		add(1, "todo", "the last connection test failed")
	case !d.Status.LastSuccess.IsZero():
		add(1, "done", "the sync reaches Identity Center")
	default:
		add(1, "todo", "test the connection")
	}
	switch {
	case d.Imported:
		add(2, "done", "imported")
	case !previewed.IsZero():
		add(2, "done", "previewed "+previewed.UTC().Format("2006-01-02 15:04 UTC"))
	default:
		add(2, "todo", "read what Identity Center holds")
	}
	switch {
	case !d.SAMLOn:
		add(3, "todo", "the SAML identity provider is off (local accounts are off)")
	case d.IdentitySourceSet:
		add(3, "done", "Identity Center's service provider metadata is set")
	default:
		add(3, "todo", "upload Identity Center's service provider metadata")
	}
	if s.sync != nil {
		c := s.sync.Client()
		d.Directory = c.Dir().Kind()
		d.SCIMEndpoint = s.sync.Config().SCIM.Endpoint
		if d.SCIMTokens, err = integration.SCIMTokenInfos(ctx, s.store, s.now()); err != nil {
			return nil, err
		}
		d.SCIMWarnings = SCIMTokenWarnings(d.Directory, d.SCIMTokens, s.scimConfigured, s.now())
		st.mu.Lock()
		d.SCIMTest = st.scimTest
		st.mu.Unlock()
	}
	accepted := len(d.SCIMTokens) > 0 && !d.SCIMTokens[0].AcceptedAt.IsZero()
	switch {
	case d.Directory != idc.DirectorySCIM:
		add(4, "na", "warden writes users and groups through the identitystore API (identity_center.directory: identitystore)")
	case len(d.SCIMWarnings) > 0:
		add(4, "todo", d.SCIMWarnings[0])
	case accepted || (d.SCIMTest != nil && d.SCIMTest.OK):
		add(4, "done", "users and groups go over SCIM; the token works")
	default:
		add(4, "todo", "test the SCIM connection")
	}
	switch {
	case d.Imported && syncSettled(d.Status):
		add(5, "done", "imported; the sync has converged")
	case d.Imported:
		add(5, "wait", "imported; the sync is catching up")
	default:
		add(5, "todo", "import the groups as access lists")
	}
	if d.IdentitySourceSet {
		add(6, "done", "the app signs people in to the access portal")
	} else {
		add(6, "todo", "needs step 3")
	}
	d.Steps = steps
	return d, nil
}

// imported says whether an import from Identity Center was made: an access list it made among the
// first page of lists (an import makes one per group).
func (s *Server) imported(ctx context.Context) (bool, error) {
	lists, err := s.store.List(ctx, resource.KindAccessList, store.ListOptions{Limit: 200})
	if err != nil {
		return false, err
	}
	for _, o := range lists {
		if o.Spec.(*resource.AccessListSpec).Origin == "identity_center" {
			return true, nil
		}
	}
	return false, nil
}

// setupPage renders step n (0: the overview, 7: uninstall).
func (s *Server) setupPage(n int) uiHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		d, err := s.setupData(r, p, n)
		if err != nil {
			s.uiFail(w, r, "/admin", err)
			return
		}
		status := http.StatusOK
		if live(r) == "" {
			switch n {
			case 1:
				status = s.setupPolicy(r, d)
			case 2:
				if status, err = s.setupPreview(r, d); err != nil {
					if syncRefusal(err) || errors.Is(err, context.Canceled) {
						s.uiAdminFail(w, r, "/admin/setup", err)
						return
					}
					d.Problem, status = "Reading Identity Center failed: "+err.Error(), http.StatusBadGateway
				}
			case 5:
				d.Owners = strings.TrimSpace(r.URL.Query().Get("owners"))
				if d.Owners == "" {
					d.Owners = p.User
				}
			}
		}
		s.uiRender(w, r, status, "setup", d)
	}
}

// setupPolicy fills step 1: the policy, and with a trusted principal the role as Terraform and a
// CloudShell script (integration.Terraform and CloudShell, as warden integration aws-policy).
func (s *Server) setupPolicy(r *http.Request, d *setupData) int {
	q := r.URL.Query()
	d.RoleName, d.Trust = strings.TrimSpace(q.Get("role")), strings.TrimSpace(q.Get("trust"))
	if d.RoleName == "" {
		d.RoleName = "warden-identity-center"
	}
	d.PolicyJSON, d.Explained = integration.PolicyJSON(), integration.Explained()
	if s.sync != nil {
		cfg := s.sync.Config()
		c := s.sync.Client()
		d.Region, d.Instance, d.IdentityStore, d.RoleARN, d.Endpoint = cfg.Region, c.InstanceARN, c.IdentityStoreID, cfg.RoleARN, c.Endpoint()
	}
	status := http.StatusOK
	if !roleNameRE.MatchString(d.RoleName) {
		d.Errors["role"] = "an IAM role name: up to 64 letters, digits and + = , . @ _ -"
		status = http.StatusBadRequest
	}
	if d.Trust != "" {
		principal, err := integration.Principal(d.Trust)
		if err != nil {
			d.Errors["trust"] = err.Error()
			status = http.StatusBadRequest
		}
		d.Principal = principal
	}
	if d.Principal != "" && d.Errors["role"] == "" {
		d.Terraform = integration.Terraform(d.RoleName, d.Principal)
		d.CloudShell = integration.CloudShell(d.RoleName, d.Principal)
	}
	return status
}

// setupConnectionTest asks Identity Center, through the configured client, for its instances
// (checking the configured one is among them), its accounts and its permission sets: read-only calls.
func (s *Server) setupConnectionTest(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if s.sync == nil {
		s.uiAdminFail(w, r, setupPath(1), errSyncOff)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	t := &connTest{At: s.now(), By: p.User}
	c := s.sync.Client()
	err := c.Check(ctx, 10*time.Second)
	if err == nil {
		if as, aerr := c.Accounts(ctx); aerr != nil {
			err = aerr
		} else {
			t.Accounts = len(as)
		}
	}
	if err == nil {
		if ps, perr := c.PermissionSets(ctx); perr != nil {
			err = perr
		} else {
			t.PermissionSets = len(ps)
		}
	}
	t.Took = time.Since(start)
	if err != nil {
		t.Message = err.Error()
	} else {
		t.OK = true
		t.Message = "Identity Center answered: instance " + c.InstanceARN + " with identity store " + c.IdentityStoreID + "."
	}
	st := s.adminState()
	st.mu.Lock()
	st.conn = t
	st.mu.Unlock()
	if t.OK {
		uiRedirect(w, r, setupPath(1), "The connection works.")
		return
	}
	uiRedirect(w, r, setupPath(1), "The connection test failed: see below.")
}

// setupPreview fills step 2 when asked to read (?read=1): the API's preview, filtered by name.
func (s *Server) setupPreview(r *http.Request, d *setupData) (int, error) {
	q := r.URL.Query()
	d.Filter, d.Owners = strings.TrimSpace(q.Get("q")), strings.TrimSpace(q.Get("owners"))
	if d.Owners == "" {
		d.Owners = web.ViewerFrom(r.Context()).User
	}
	if len(d.Filter) > maxSearchField {
		d.Errors["q"] = "at most 256 characters"
		return http.StatusBadRequest, nil
	}
	d.Read = q.Get("read") != ""
	if !d.Read {
		return http.StatusOK, nil
	}
	if s.sync == nil {
		return 0, errSyncOff
	}
	out, plan, err := s.previewResult(r.Context())
	if err != nil {
		return 0, err
	}
	st := s.adminState()
	st.mu.Lock()
	st.previewed = s.now()
	st.mu.Unlock()
	for i := range d.Steps {
		if d.Steps[i].N == 2 && d.Steps[i].State == "todo" {
			d.Steps[i].State, d.Steps[i].Note = "done", "previewed just now"
		}
	}
	d.Preview = &out
	match := func(v string) bool {
		return d.Filter == "" || strings.Contains(strings.ToLower(v), strings.ToLower(d.Filter))
	}
	for _, a := range plan.Source.Accounts {
		if match(a.Name) || match(a.ID) {
			d.Accounts = append(d.Accounts, a.Name+" ("+a.ID+")")
		}
	}
	for _, ps := range plan.Source.PermissionSets {
		if match(ps.Name) {
			d.Sets = append(d.Sets, ps.Name)
		}
	}
	for _, g := range out.Groups {
		if match(g.DisplayName) || match(g.List) {
			d.Groups = append(d.Groups, g)
		}
	}
	return http.StatusOK, nil
}

// maxSPForm is the SP metadata the form takes (the form body's bound; larger: warden saml sp set).
const maxSPForm = 14 << 10

// setupSetSP sets Identity Center as the aws-identity-center service provider from its SAML
// metadata (PUT /v1/saml/sp's code: administrator, step-up).
func (s *Server) setupSetSP(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	back := setupPath(3)
	md := strings.TrimSpace(r.PostForm.Get("metadata"))
	fail := func(msg string) {
		d, err := s.setupData(r, p, 3)
		if err != nil {
			s.uiFail(w, r, back, err)
			return
		}
		d.SPMetadata, d.Errors["metadata"] = md, msg
		s.uiRender(w, r, http.StatusBadRequest, "setup", d)
	}
	switch {
	case s.SAML() == nil:
		s.uiRender(w, r, http.StatusNotFound, "error", web.ErrorData{Title: "Not Found", Message: "The SAML identity provider is not enabled on this warden.", Back: back})
		return
	case md == "":
		fail("required: paste the metadata XML Identity Center offers (“Download metadata file”)")
		return
	case len(md) > maxSPForm:
		fail("longer than this form takes: use warden saml sp set --metadata-file FILE")
		return
	}
	if err := s.stepUp(p, "setting the SAML service provider (an administrative change)"); err != nil {
		s.uiFail(w, r, back, err)
		return
	}
	if _, err := s.setSP(r.Context(), p, []byte(md)); err != nil {
		if fe, ok := uiFieldErrors(err); ok {
			var msgs []string
			for f, m := range fe {
				msgs = append(msgs, f+": "+m)
			}
			fail(strings.Join(msgs, "; "))
			return
		}
		code, body := errorBody(err)
		if code == http.StatusBadRequest {
			fail(body.Error)
			return
		}
		s.uiFail(w, r, back, err)
		return
	}
	uiRedirect(w, r, back, "Identity Center is warden's service provider aws-identity-center now.")
}

// setupImport imports Identity Center with the default owners given (POST
// /v1/integration/import's code: step-up), then reads the groups again to show each is a list.
func (s *Server) setupImport(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	back := setupPath(5)
	if s.sync == nil {
		s.uiAdminFail(w, r, back, errSyncOff)
		return
	}
	raw := r.PostForm.Get("owners")
	var owners []string
	for _, o := range strings.FieldsFunc(raw, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' }) {
		owners = append(owners, o)
	}
	fail := func(msg string) {
		d, err := s.setupData(r, p, 5)
		if err != nil {
			s.uiFail(w, r, back, err)
			return
		}
		d.Owners, d.Errors["owners"] = raw, msg
		s.uiRender(w, r, http.StatusBadRequest, "setup", d)
	}
	if len(owners) > 20 || len(raw) > 4096 {
		fail("at most 20 owners")
		return
	}
	if err := s.stepUp(p, "importing from Identity Center (an administrative change)"); err != nil {
		s.uiFail(w, r, back, err)
		return
	}
	stats, err := s.importResult(r.Context(), p, owners)
	if err != nil {
		if fe, ok := uiFieldErrors(err); ok {
			for _, m := range fe {
				fail(m)
				return
			}
		}
		code, body := errorBody(err)
		switch {
		case code == http.StatusBadRequest || code == http.StatusNotFound || code == http.StatusConflict:
			fail(body.Error)
		case syncRefusal(err) || errors.Is(err, context.Canceled):
			s.uiAdminFail(w, r, back, err)
		default: // Identity Center's answer, say: the administrator sees it
			d, derr := s.setupData(r, p, 5)
			if derr != nil {
				s.uiFail(w, r, back, derr)
				return
			}
			d.Owners, d.Problem = raw, "The import failed: "+err.Error()
			s.uiRender(w, r, http.StatusBadGateway, "setup", d)
		}
		return
	}
	run := &importRun{At: s.now(), By: p.User, Stats: stats}
	if out, _, err := s.previewResult(r.Context()); err != nil {
		run.Err = "reading Identity Center again after the import: " + err.Error()
	} else {
		run.Groups, run.AllLists = out.Groups, true
		for _, g := range out.Groups {
			if g.New {
				run.AllLists = false
			}
		}
	}
	st := s.adminState()
	st.mu.Lock()
	st.imported = run
	st.mu.Unlock()
	uiRedirect(w, r, back, "Imported: "+plural(stats.Created, "object", "objects")+" created, "+plural(stats.Updated, "updated", "updated")+".")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// setupUninstall shows the uninstall's plan (a dry run), or with confirm carries it out: the
// engine's Uninstall, as POST /v1/integration/uninstall (step-up for both, as the API's).
func (s *Server) setupUninstall(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	back := setupPath(7)
	if s.sync == nil {
		s.uiAdminFail(w, r, back, errSyncOff)
		return
	}
	if err := s.stepUp(p, "uninstalling the integration (an administrative change)"); err != nil {
		s.uiFail(w, r, back, err)
		return
	}
	deleteGroups := r.PostForm.Get("delete_groups") == "on"
	confirm := r.PostForm.Get("confirm") == "uninstall"
	plan, err := s.sync.Uninstall(r.Context(), deleteGroups, !confirm)
	if err != nil {
		s.uiAdminFail(w, r, back, err)
		return
	}
	d, err := s.setupData(r, p, 7)
	if err != nil {
		s.uiFail(w, r, back, err)
		return
	}
	d.Uninstall, d.DeleteGroups, d.Uninstalled = plan, deleteGroups, confirm
	s.uiRender(w, r, http.StatusOK, "setup", d)
}

// setupSCIMToken sets Identity Center's SCIM token from the form (step-up, as the API's PUT).
func (s *Server) setupSCIMToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	back := setupPath(4)
	token, expires := strings.TrimSpace(r.PostForm.Get("token")), strings.TrimSpace(r.PostForm.Get("expires"))
	fail := func(field, msg string) {
		d, err := s.setupData(r, p, 4)
		if err != nil {
			s.uiFail(w, r, back, err)
			return
		}
		d.Errors[field] = msg
		s.uiRender(w, r, http.StatusBadRequest, "setup", d)
	}
	if s.sync == nil || s.sync.Client().Dir().Kind() != idc.DirectorySCIM || s.scimBox == nil {
		s.uiAdminFail(w, r, back, errNotSCIM)
		return
	}
	if err := s.stepUp(p, "setting Identity Center's SCIM token (an administrative change)"); err != nil {
		s.uiFail(w, r, back, err)
		return
	}
	var at time.Time
	if expires != "" {
		var err error
		if at, err = time.Parse(time.DateOnly, expires); err != nil {
			fail("expires", "a date, as Identity Center's console shows it: 2027-11-30")
			return
		}
	}
	info, err := integration.SetSCIMToken(r.Context(), s.store, s.scimBox, p.User, token, at, s.now())
	if err != nil {
		field := "token"
		if strings.HasPrefix(err.Error(), "expires") {
			field = "expires"
		}
		fail(field, err.Error())
		return
	}
	uiRedirect(w, r, back, "SCIM token "+info.ID+" set; warden tries it first from now on. Test the connection below.")
}

// setupSCIMTest checks the SCIM connection (read-only: the service provider's configuration and a
// user lookup).
func (s *Server) setupSCIMTest(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	back := setupPath(4)
	if s.sync == nil {
		s.uiAdminFail(w, r, back, errSyncOff)
		return
	}
	d, ok := s.sync.Client().Dir().(*idc.SCIMDirectory)
	if !ok {
		s.uiAdminFail(w, r, back, errNotSCIM)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	t := &scimTestRun{At: s.now(), By: p.User}
	if n, err := d.TestConnection(ctx); err != nil {
		t.Message = err.Error()
	} else {
		t.OK, t.Message = true, "Identity Center's SCIM endpoint answered, with token "+strconv.Itoa(n)+" of those warden holds."
	}
	st := s.adminState()
	st.mu.Lock()
	st.scimTest = t
	st.mu.Unlock()
	if t.OK {
		uiRedirect(w, r, back, "The SCIM connection works.")
		return
	}
	uiRedirect(w, r, back, "The SCIM connection test failed: see below.")
}
