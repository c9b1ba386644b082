package server

import (
	"context"
	"encoding/json"
	"fmt"

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
	return &knownCatalog{cat: policy.NewCatalog(accs, pss), accounts: len(accs), psets: len(pss)}, nil
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
