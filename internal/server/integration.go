package server

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/importer"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
)

// PreviewResponse is what Identity Center holds in scope, and exactly what an import would add.
type PreviewResponse struct {
	Accounts       int            `json:"accounts"`
	PermissionSets int            `json:"permission_sets"`
	Users          int            `json:"users"`
	Groups         []PreviewGroup `json:"groups"`
	UserAssigned   int            `json:"user_assignments"`
	// Changes says what an import would add, one line each; empty: nothing.
	Changes []string `json:"changes"`
	// Objects are the objects an import would write: created, or updated with what it adds.
	Objects []*resource.Object `json:"objects"`
	// Records counts what an import would take over in Identity Center as warden's.
	Records int `json:"records"`
	// Explained counts the assignments warden explains already (its grants, approved requests in
	// their window, its sync records), which an import leaves to the sync.
	Explained int      `json:"explained"`
	Skipped   []string `json:"skipped,omitempty"`
	// OutOfScope: the accounts and groups the identity_center filters leave out.
	OutOfScope []string `json:"out_of_scope,omitempty"`
}

// PreviewGroup is one group and the access list it is, or would become (New).
type PreviewGroup struct {
	DisplayName string   `json:"display_name"`
	Members     int      `json:"members"`
	List        string   `json:"list"`
	New         bool     `json:"new,omitempty"`
	Roles       []string `json:"roles"`
}

// UninstallRequest: with DryRun, only the plan; DeleteGroups also deletes the groups warden made.
type UninstallRequest struct {
	DeleteGroups bool `json:"delete_groups"`
	DryRun       bool `json:"dry_run"`
}

// ImportRequest names the default owners of the imported access lists.
type ImportRequest struct {
	DefaultOwners []string `json:"default_owners"`
}

func (s *Server) integrationRoutes() {
	s.handle("GET /v1/integration/preview", s.authed(s.preview))
	s.handle("POST /v1/integration/import", s.authed(s.importIC))
	s.handle("POST /v1/integration/uninstall", s.authed(s.uninstall))
	s.scimTokenRoutes()
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.syncReady(w, r, p) {
		return
	}
	out, _, err := s.previewResult(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// previewResult reads Identity Center and says what an import would add, changing nothing:
// GET /v1/integration/preview and the guided integration's preview. The plan is returned too, for
// what the page shows beyond the API's answer (the accounts and permission sets by name).
func (s *Server) previewResult(ctx context.Context) (PreviewResponse, *importer.Plan, error) {
	plan, err := importer.Preview(ctx, s.store, s.sync.Client(), s.scope(), importer.WithClock(s.now))
	if err != nil {
		return PreviewResponse{}, nil, err
	}
	src := plan.Source
	out := PreviewResponse{Accounts: len(src.Accounts), PermissionSets: len(src.PermissionSets), Users: len(src.Users),
		Changes: plan.Changes, Objects: append(slices.Clone(plan.Create), plan.Update...), Records: len(plan.Records),
		Explained: plan.Explained, Skipped: plan.Skipped, OutOfScope: src.OutOfScope}
	for _, g := range plan.Groups {
		out.Groups = append(out.Groups, PreviewGroup{DisplayName: g.DisplayName, Members: g.Members, List: g.List, New: g.New, Roles: g.Roles})
	}
	for _, u := range src.Users {
		out.UserAssigned += len(src.Assignments[u.ID])
	}
	return out, plan, nil
}

func (s *Server) importIC(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.syncReady(w, r, p) || !s.requireStepUp(w, r, p, "importing from Identity Center (an administrative change)") {
		return
	}
	var req ImportRequest
	if err := decodeBody(r, &req, `{"default_owners": [...]}`); err != nil {
		s.fail(w, r, err)
		return
	}
	stats, err := s.importResult(r.Context(), p, req.DefaultOwners)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, stats)
}

// importResult imports Identity Center with owners as the imported lists' default owners (the
// caller checked step-up): POST /v1/integration/import and the guided integration's import.
func (s *Server) importResult(ctx context.Context, p *auth.Principal, owners []string) (*importer.Stats, error) {
	if len(owners) == 0 {
		return nil, &resource.FieldError{Field: "default_owners", Message: "required: at least one owner for the imported access lists"}
	}
	return importer.Import(ctx, s.store, s.sync.Client(), s.scope(), owners, importer.WithClock(s.now), importer.As(actor(p)))
}

// scope is the part of Identity Center the sync manages, which preview and import keep to.
func (s *Server) scope() importer.Scope {
	cfg := s.sync.Config()
	return importer.Scope{Accounts: cfg.Accounts, Groups: cfg.Groups}
}

func (s *Server) uninstall(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.syncReady(w, r, p) || !s.requireStepUp(w, r, p, "uninstalling the integration (an administrative change)") {
		return
	}
	var req UninstallRequest
	if err := decodeBody(r, &req, `{"delete_groups": bool, "dry_run": bool}`); err != nil {
		s.fail(w, r, err)
		return
	}
	plan, err := s.sync.Uninstall(r.Context(), req.DeleteGroups, req.DryRun)
	if errors.Is(err, reconcile.ErrNotLeader) {
		writeError(w, http.StatusConflict, err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, plan)
}
