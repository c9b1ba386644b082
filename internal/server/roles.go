package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/access"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Warning is something warden accepted but that is probably not what was meant: a role naming an
// account or permission set that warden does not know, say. Item is the 1-based batch item.
type Warning struct {
	Item    int           `json:"item,omitempty"`
	Kind    resource.Kind `json:"kind"`
	Name    string        `json:"name"`
	Field   string        `json:"field"`
	Message string        `json:"message"`
}

func (w Warning) String() string { return w.Field + ": " + w.Message }

// knownCatalog is what roles are checked against: the accounts and permission sets warden has on
// record (from Identity Center, by an import or the sync, or written as resources).
type knownCatalog struct {
	cat             *policy.Catalog
	accounts, psets int
	// sessions are the permission sets' session durations (by name and ARN); roles, every role,
	// for what a role lets its holders request.
	sessions map[string]time.Duration
	roles    map[string]*resource.Object
}

func (s *Server) knownCatalog(ctx context.Context) (*knownCatalog, error) {
	accounts, err := s.store.List(ctx, resource.KindAccount, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	accs := make([]policy.Account, 0, len(accounts))
	for _, a := range accounts {
		accs = append(accs, policy.Account{ID: a.Metadata.Name, Name: a.Spec.(*resource.AccountSpec).Name})
	}
	sets, err := s.store.List(ctx, resource.KindPermissionSet, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	pss := make([]policy.PermissionSet, 0, len(sets))
	for _, p := range sets {
		pss = append(pss, policy.PermissionSet{Name: p.Metadata.Name, ARN: p.Spec.(*resource.PermissionSetSpec).ARN})
	}
	sessions, err := s.sessionDurations(ctx)
	if err != nil {
		return nil, err
	}
	_, roles, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	return &knownCatalog{cat: policy.NewCatalog(accs, pss), accounts: len(accs), psets: len(pss), sessions: sessions, roles: roles}, nil
}

// sessionProblem warns when a role lets its holders request access for less time (its request
// max_duration) than the session duration of a permission set they may request: AWS credentials
// fetched during the request stay valid that long, past the request's end.
func (k *knownCatalog) sessionProblem(o *resource.Object, spec *resource.RoleSpec) *Warning {
	rc := spec.Allow.Request
	if rc == nil {
		return nil
	}
	max := access.DefaultMaxDuration
	if rc.MaxDuration != "" {
		d, err := time.ParseDuration(rc.MaxDuration)
		if err != nil || d <= 0 {
			return nil // validation speaks of it
		}
		max = d
	}
	targets := map[policy.Target]bool{}
	for _, aa := range rc.AccountAssignments {
		for _, t := range k.cat.Resolve(aa) {
			targets[t] = true
		}
	}
	names := make([]string, 0, len(k.roles))
	for n := range k.roles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !slices.ContainsFunc(rc.Roles, func(p string) bool { return resource.MatchGlob(p, n) }) {
			continue
		}
		granted, _ := k.cat.RoleTargets(k.roles[n].Spec.(*resource.RoleSpec))
		for t := range granted {
			targets[t] = true
		}
	}
	longer := map[string]time.Duration{}
	for t := range targets {
		if d := durationOf(k.sessions, t.PermissionSetARN); d > max {
			it, err := k.cat.Lookup(t.AccountID, t.PermissionSetARN)
			name := t.PermissionSetARN
			if err == nil {
				name = it.PermissionSetName
			}
			longer[name] = d
		}
	}
	if len(longer) == 0 {
		return nil
	}
	var parts []string
	for n, d := range longer {
		parts = append(parts, n+" "+humanDuration(d))
	}
	sort.Strings(parts)
	return &Warning{Kind: o.Kind, Name: o.Metadata.Name, Field: "spec.allow.request.max_duration",
		Message: fmt.Sprintf("%s is shorter than the session duration of permission sets it lets holders request (%s): AWS credentials fetched during a request stay valid that long, past the request's end", humanDuration(max), strings.Join(parts, ", "))}
}

// roleProblems lists the account assignments of a role (granted, denied or requestable) whose
// account or permission set matches nothing warden knows: accepted, since the catalog may catch up
// (an import, the next sync), but granting nothing meanwhile.
func (k *knownCatalog) roleProblems(o *resource.Object) []Warning {
	spec, ok := o.Spec.(*resource.RoleSpec)
	if !ok {
		return nil
	}
	var out []Warning
	check := func(field string, list []resource.AccountAssignment) {
		for i, aa := range list {
			msg := k.unknown(aa)
			if msg != "" {
				out = append(out, Warning{Kind: o.Kind, Name: o.Metadata.Name, Field: fmt.Sprintf("%s[%d]", field, i), Message: msg})
			}
		}
	}
	for _, side := range []struct {
		name string
		c    resource.RoleConditions
	}{{"allow", spec.Allow}, {"deny", spec.Deny}} {
		check("spec."+side.name+".account_assignments", side.c.AccountAssignments)
		if side.c.Request != nil {
			check("spec."+side.name+".request.account_assignments", side.c.Request.AccountAssignments)
		}
	}
	if w := k.sessionProblem(o, spec); w != nil {
		out = append(out, *w)
	}
	return out
}

// unknown says what of an account assignment's pattern matches nothing warden knows ("" when both
// parts match something).
func (k *knownCatalog) unknown(aa resource.AccountAssignment) string {
	const origin = "accounts and permission sets come from Identity Center, by warden integration import or the sync"
	switch {
	case k.accounts == 0 && k.psets == 0:
		return "warden knows no accounts and no permission sets yet, so this grants nothing (" + origin + ")"
	case k.accounts == 0:
		return "warden knows no accounts yet, so this grants nothing (" + origin + ")"
	case k.psets == 0:
		return "warden knows no permission sets yet, so this grants nothing (" + origin + ")"
	}
	account := len(k.cat.Resolve(resource.AccountAssignment{Account: aa.Account, PermissionSet: "*"})) > 0
	pset := len(k.cat.Resolve(resource.AccountAssignment{Account: "*", PermissionSet: aa.PermissionSet})) > 0
	switch {
	case !account && !pset:
		return fmt.Sprintf("account %q and permission set %q match nothing warden knows, so this grants nothing (warden get account, warden get permission_set)", aa.Account, aa.PermissionSet)
	case !account:
		return fmt.Sprintf("account %q matches no account warden knows, so this grants nothing (warden get account)", aa.Account)
	case !pset:
		return fmt.Sprintf("permission set %q matches no permission set warden knows, so this grants nothing (warden get permission_set)", aa.PermissionSet)
	}
	return ""
}

// withRoleProblems shows on each role what of it matches nothing in the catalog, as
// status.problems (computed when read, so it is as true as the catalog is).
func (s *Server) withRoleProblems(ctx context.Context, objs []*resource.Object) error {
	var k *knownCatalog
	for _, o := range objs {
		if o.Kind != resource.KindRole {
			continue
		}
		if k == nil {
			var err error
			if k, err = s.knownCatalog(ctx); err != nil {
				return err
			}
		}
		status := map[string]any{}
		if len(o.Status) > 0 {
			json.Unmarshal(o.Status, &status)
		}
		delete(status, "problems")
		if ws := k.roleProblems(o); len(ws) > 0 {
			problems := make([]string, len(ws))
			for i, w := range ws {
				problems[i] = w.String()
			}
			status["problems"] = problems
		}
		if len(status) == 0 {
			o.Status = nil
			continue
		}
		o.Status, _ = json.Marshal(status)
	}
	return nil
}

// batchWarnings are the warnings about the items of a batch just written.
func (s *Server) batchWarnings(ctx context.Context, objs []*resource.Object) ([]Warning, error) {
	var k *knownCatalog
	var out []Warning
	for i, o := range objs {
		if o.Kind != resource.KindRole {
			continue
		}
		if k == nil {
			var err error
			if k, err = s.knownCatalog(ctx); err != nil {
				return nil, err
			}
		}
		for _, w := range k.roleProblems(o) {
			w.Item = i + 1
			out = append(out, w)
		}
	}
	return out, nil
}
