package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/wardenhq/warden/internal/access"
	"github.com/wardenhq/warden/internal/auth"
	"github.com/wardenhq/warden/internal/awsconfig"
	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/samlidp"
	"github.com/wardenhq/warden/internal/store"
	"github.com/wardenhq/warden/internal/web"
)

// SetAWSRegion sets Identity Center's region (identity_center.region), the sso_region of the AWS
// CLI configuration warden hands out (GET /v1/me/aws-config).
func (s *Server) SetAWSRegion(region string) { s.awsRegion = region }

func (s *Server) awsConfigRoutes() {
	s.handle("GET /v1/me/aws-config", s.authed(s.awsConfigAPI))
	s.handle("GET /aws-config", s.ui(web.SectionAccess, s.uiAWSConfig))
}

// errNoAWS answers a warden that does not know what an AWS CLI configuration needs.
type errNoAWS struct{ what string }

func (e errNoAWS) Error() string { return e.what }

// AWSOptions are the sso-session's start URL and region, as warden knows them: the start URL from
// the aws-identity-center service provider (its start_url, else config saml.start_url), the region
// from identity_center.region.
func (s *Server) AWSOptions(ctx context.Context) (awsconfig.Options, error) {
	var o awsconfig.Options
	if s.awsRegion == "" {
		return o, errNoAWS{"warden does not know Identity Center's region: its config has no identity_center section (identity_center.region)"}
	}
	if s.saml != nil {
		start, err := s.saml.idp.StartURL(ctx, samlidp.AppName)
		if err != nil {
			return o, err
		}
		o.StartURL = start
	}
	if o.StartURL == "" {
		return o, errNoAWS{"warden does not know the AWS access portal's start URL: set saml.start_url in its config, or start_url on the aws-identity-center service provider"}
	}
	o.SSORegion = s.awsRegion
	return o, nil
}

// AWSEntries are the account × permission set pairs user holds now, by warden's one definition of
// holding (policy.Holdings for standing roles, as My access shows them; approved requests in their
// window, as the sync grants them), and with requestable those they may request (the catalog of
// Request access), each with the command that requests it. A disabled or unknown user holds
// nothing.
func (s *Server) AWSEntries(ctx context.Context, user string, requestable bool) ([]awsconfig.Entry, error) {
	uo, err := s.store.Get(ctx, resource.KindUser, user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if uo.Spec.(*resource.UserSpec).Disabled {
		return nil, nil
	}
	cat, all, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	held := map[policy.Target]bool{}
	h, err := access.Holdings(ctx, s.store, user, now)
	if err != nil {
		return nil, err
	}
	addRole := func(name string) {
		if o := all[name]; o != nil {
			granted, _ := cat.RoleTargets(o.Spec.(*resource.RoleSpec))
			for t := range granted {
				held[t] = true
			}
		}
	}
	for _, name := range h.Roles {
		addRole(name)
	}
	reqs, err := s.store.List(ctx, resource.KindAccessRequest, store.ListOptions{Limit: maxOwnRequests,
		Filters: store.Filter(resource.IndexUser, user, resource.IndexState, resource.StateApproved)})
	if err != nil {
		return nil, err
	}
	for _, o := range reqs {
		rq := o.Spec.(*resource.AccessRequestSpec)
		if rq.Start == nil || rq.End == nil || now.Before(*rq.Start) || !now.Before(*rq.End) {
			continue
		}
		for _, name := range rq.Roles {
			addRole(name)
		}
		items, err := policy.RequestItems(rq, cat)
		if err != nil {
			continue // no longer resolves: the sync grants nothing for it either
		}
		for _, it := range items {
			held[it.Target] = true
		}
	}
	var out []awsconfig.Entry
	seen := map[policy.Target]bool{}
	add := func(t policy.Target, req string) {
		if seen[t] || (req != "" && held[t]) {
			return
		}
		it, err := cat.Lookup(t.AccountID, t.PermissionSetARN)
		if err != nil {
			return // not in the catalog: no name to give the AWS CLI
		}
		seen[t] = true
		out = append(out, awsconfig.Entry{AccountID: it.AccountID, AccountName: it.AccountName, PermissionSet: it.PermissionSetName,
			Requestable: req != "", Request: req})
	}
	for _, t := range sortedTargets(held) {
		add(t, "")
	}
	if !requestable {
		return out, nil
	}
	rq, err := s.requester(ctx, &auth.Principal{User: user})
	if err != nil {
		return nil, err
	}
	for _, key := range rq.candidates("") {
		ci, err := rq.item(key)
		if err != nil {
			continue // a deny, or nothing to ask for
		}
		if ci.Role != "" {
			granted, _ := cat.RoleTargets(all[ci.Role].Spec.(*resource.RoleSpec))
			for _, t := range sortedTargets(granted) {
				add(t, "warden request create --roles "+ci.Role)
			}
			continue
		}
		add(ci.Item.Target, "warden request create --resource account="+ci.Item.AccountID+",permission_set="+ci.Item.PermissionSetName)
	}
	return out, nil
}

func sortedTargets(set map[policy.Target]bool) []policy.Target {
	out := make([]policy.Target, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b policy.Target) int {
		if a.AccountID != b.AccountID {
			if a.AccountID < b.AccountID {
				return -1
			}
			return 1
		}
		switch {
		case a.PermissionSetARN < b.PermissionSetARN:
			return -1
		case a.PermissionSetARN > b.PermissionSetARN:
			return 1
		}
		return 0
	})
	return out
}

// awsConfig is the caller's configuration, by the query's settings (session_name, name_template,
// region, output, requestable).
func (s *Server) awsConfig(ctx context.Context, p *auth.Principal, q map[string][]string) (*awsconfig.Config, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	for key, v := range q {
		switch key {
		case "format", "requestable", "session_name", "name_template", "region", "output":
		default:
			return nil, &resource.FieldError{Field: key, Message: "unknown parameter (format, requestable, session_name, name_template, region, output)"}
		}
		if len(v) > 1 || len(v[0]) > awsconfig.MaxTemplate {
			return nil, &resource.FieldError{Field: key, Message: fmt.Sprintf("give it once, at most %d characters", awsconfig.MaxTemplate)}
		}
	}
	requestable := false
	if v := get("requestable"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, &resource.FieldError{Field: "requestable", Message: fmt.Sprintf("%q is not true or false", v)}
		}
		requestable = b
	}
	switch get("format") {
	case "", "json", "ini":
	default:
		return nil, &resource.FieldError{Field: "format", Message: fmt.Sprintf("%q: json or ini", get("format"))}
	}
	o, err := s.AWSOptions(ctx)
	if err != nil {
		return nil, err
	}
	o.Session, o.Template, o.Region, o.Output = get("session_name"), get("name_template"), get("region"), get("output")
	entries, err := s.AWSEntries(ctx, p.User, requestable)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Build(o, entries, nil)
	if err != nil {
		return nil, badRequest{err}
	}
	return cfg, nil
}

// awsConfigAPI answers GET /v1/me/aws-config: the caller's sso-session and profiles (JSON), or with
// format=ini the block warden aws config writes.
func (s *Server) awsConfigAPI(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	cfg, err := s.awsConfig(r.Context(), p, r.URL.Query())
	var no errNoAWS
	if errors.As(err, &no) {
		writeError(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("format") == "ini" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(cfg.INI())
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

// uiAWSConfig is My access's download: the signed-in person's AWS CLI configuration as a file.
func (s *Server) uiAWSConfig(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := map[string][]string{}
	if v := r.URL.Query().Get("requestable"); v != "" {
		q["requestable"] = []string{v}
	}
	cfg, err := s.awsConfig(r.Context(), p, q)
	var no errNoAWS
	if errors.As(err, &no) {
		s.pageError(w, r, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		s.uiFail(w, r, "/", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="warden-aws-config"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(cfg.INI())
}

// awsConfigReady says whether My access offers the download.
func (s *Server) awsConfigReady(ctx context.Context) bool {
	_, err := s.AWSOptions(ctx)
	return err == nil
}
