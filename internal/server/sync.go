package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/reconcile"
)

// SetSync attaches the sync engine (nil: sync is off).
func (s *Server) SetSync(e *reconcile.Engine) { s.sync = e }

var errSyncOff = errors.New("Identity Center sync is off: the config file has no identity_center section")

// SyncRequest is the body of POST /v1/sync/plan and /v1/sync/apply (both optional).
type SyncRequest struct {
	// Force applies a plan the safety brake refuses (apply only).
	Force bool `json:"force,omitempty"`
	// DeleteInAWS deletes the users and groups warden adopted and no longer has, instead of leaving
	// them in Identity Center unmanaged.
	DeleteInAWS bool `json:"delete_in_aws,omitempty"`
}

// SyncPlanResponse is a plan as the API answers it.
type SyncPlanResponse struct {
	Plan    string `json:"plan"`
	Changes int    `json:"changes"`
	Brake   string `json:"brake,omitempty"`
	// LeftOut: what the identity_center filters leave out of the sync; Released: users and groups
	// warden adopted and no longer manages, left in Identity Center (delete_in_aws deletes them).
	LeftOut  []string `json:"left_out,omitempty"`
	Released []string `json:"released,omitempty"`
	Applied  int      `json:"applied,omitempty"`
	Errors   []string `json:"errors,omitempty"`
	// Unconverged (apply): what the apply left undone and why; empty when Identity Center matches.
	Unconverged []string `json:"unconverged,omitempty"`
}

func (s *Server) syncRoutes() {
	s.handle("POST /v1/sync/plan", s.authed(s.syncPlan))
	s.handle("POST /v1/sync/apply", s.authed(s.syncApply))
	s.handle("GET /v1/sync/status", s.authed(s.syncStatus))
}

func (s *Server) syncReady(w http.ResponseWriter, r *http.Request, p *auth.Principal) bool {
	if !p.Admin {
		s.fail(w, r, fmt.Errorf("only administrators run sync: %w", errForbidden))
		return false
	}
	if s.sync == nil {
		writeError(w, http.StatusServiceUnavailable, errSyncOff)
		return false
	}
	return true
}

// syncRequest reads the optional body of a plan or apply.
func (s *Server) syncRequest(w http.ResponseWriter, r *http.Request) (SyncRequest, bool) {
	var req SyncRequest
	if b, err := readBody(r, MaxObjectBody); err != nil {
		s.fail(w, r, err)
		return req, false
	} else if len(b) > 0 {
		if err := decodeJSON(b, &req, `{"force": true|false, "delete_in_aws": true|false} (or nothing)`); err != nil {
			s.fail(w, r, err)
			return req, false
		}
	}
	return req, true
}

func (s *Server) syncPlan(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.syncReady(w, r, p) {
		return
	}
	req, ok := s.syncRequest(w, r)
	if !ok {
		return
	}
	out, err := s.syncPlanResult(r.Context(), req)
	if errors.Is(err, reconcile.ErrUninstalled) {
		writeError(w, http.StatusConflict, err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// syncPlanResult computes the plan on a full observation, changing nothing: POST /v1/sync/plan
// and the administration page's "Compute the plan". The sync must be on (s.sync set).
func (s *Server) syncPlanResult(ctx context.Context, req SyncRequest) (SyncPlanResponse, error) {
	plan, _, _, err := s.sync.Plan(ctx, reconcile.PlanOptions{Full: true, DeleteInAWS: req.DeleteInAWS})
	if err != nil {
		return SyncPlanResponse{}, err
	}
	return SyncPlanResponse{Plan: plan.String(), Changes: plan.Changes() + plan.Held, Brake: plan.Brake,
		LeftOut: plan.LeftOut, Released: plan.Released}, nil
}

func (s *Server) syncApply(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.syncReady(w, r, p) || !s.requireStepUp(w, r, p, "applying the sync (an administrative change)") {
		return
	}
	req, ok := s.syncRequest(w, r)
	if !ok {
		return
	}
	out, applied, err := s.syncApplyResult(r.Context(), req)
	if errors.Is(err, reconcile.ErrNotLeader) || errors.Is(err, reconcile.ErrUninstalled) {
		writeError(w, http.StatusConflict, err)
		return
	}
	if !applied {
		s.fail(w, r, err)
		return
	}
	code := http.StatusOK
	if errors.Is(err, reconcile.ErrBrake) {
		code = http.StatusConflict
	}
	writeJSON(w, code, out)
}

// syncApplyResult plans and applies (the caller checked step-up): POST /v1/sync/apply and the
// administration page's "Apply". applied is false when nothing ran (err says why); when it ran, err
// may still say the safety brake held the plan (reconcile.ErrBrake) or what failed.
func (s *Server) syncApplyResult(ctx context.Context, req SyncRequest) (out SyncPlanResponse, applied bool, err error) {
	res, err := s.sync.Apply(ctx, reconcile.PlanOptions{Full: true, DeleteInAWS: req.DeleteInAWS, ReadBack: true}, req.Force)
	if errors.Is(err, reconcile.ErrNotLeader) || errors.Is(err, reconcile.ErrUninstalled) || res == nil {
		return out, false, err
	}
	out = SyncPlanResponse{Plan: res.Plan.String(), Changes: res.Plan.Changes(), Brake: res.Plan.Brake, Applied: res.Applied,
		LeftOut: res.Plan.LeftOut, Released: res.Plan.Released, Unconverged: res.Unconverged}
	for _, e := range res.Errors {
		out.Errors = append(out.Errors, e.Error())
	}
	return out, true, err
}

func (s *Server) syncStatus(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.syncReady(w, r, p) {
		return
	}
	writeJSON(w, http.StatusOK, s.sync.Status())
}

// Sync is the attached sync engine, or nil when sync is off.
func (s *Server) Sync() *reconcile.Engine { return s.sync }
