package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/resource"
)

// UninstalledKey names the sync record that marks an uninstalled integration.
const UninstalledKey = resource.RecordUninstalled

// ErrUninstalled: the integration was uninstalled; the sync changes nothing until an import.
var ErrUninstalled = errors.New("the Identity Center integration is uninstalled; warden integration import takes it up again")

// UninstallPlan is what an uninstall removes from Identity Center, and what it leaves.
type UninstallPlan struct {
	// Assignments warden created (for standing grants and access requests), as
	// "<permission set> on <account> for <USER|GROUP> <name>".
	Assignments []string `json:"assignments"`
	// Groups warden created, deleted with --delete-groups (their members go with them).
	Groups []string `json:"groups"`
	// Kept: what stays, and why (groups and users warden adopted, groups without --delete-groups,
	// users warden created, whom other things may use).
	Kept []string `json:"kept"`
	// Done is set once the plan was carried out; Errors lists what failed (run it again).
	Done   bool     `json:"done"`
	Errors []string `json:"errors,omitempty"`
}

func (e *Engine) uninstalled() bool { return e.records[UninstalledKey] != nil }

// Uninstall stops the sync for good (every replica, across restarts) and removes from Identity
// Center the account assignments warden created, and with deleteGroups the groups it created.
// Nothing warden adopted (what existed before it) is removed, and users stay. With dryRun it only
// says what it would do. Running it again finishes what a failure or crash left.
func (e *Engine) Uninstall(ctx context.Context, deleteGroups, dryRun bool) (*UninstallPlan, error) {
	if !dryRun && !e.leading.Load() {
		return nil, ErrNotLeader
	}
	ctx = e.fenced(ctx)
	e.run.Lock()
	defer e.run.Unlock()
	if !e.leading.Load() {
		e.records = nil
	}
	if err := e.loadRecords(ctx); err != nil {
		return nil, err
	}
	psNames, accountNames := map[string]string{}, map[string]string{}
	if e.catalog != nil {
		for _, x := range e.catalog.sets {
			psNames[x.ARN] = x.Name
		}
		for _, a := range e.catalog.accounts {
			accountNames[a.ID] = a.Name
		}
	}
	describe := func(s *resource.SyncRecordSpec) string {
		ps, account := psNames[s.PermissionSetARN], s.AccountID
		if ps == "" {
			ps = psName(s.PermissionSetARN)
		}
		if n := accountNames[s.AccountID]; n != "" {
			account = n + " (" + s.AccountID + ")"
		}
		return fmt.Sprintf("%s on %s for %s %s", ps, account, s.PrincipalType, s.Name)
	}
	p := &UninstallPlan{Assignments: []string{}, Groups: []string{}, Kept: []string{}}
	var assignments, groups []string
	users := 0
	for _, key := range slices.Sorted(maps.Keys(e.records)) {
		s := e.records[key].Spec.(*resource.SyncRecordSpec)
		if s.Released {
			continue // no longer warden's
		}
		switch s.Type {
		case resource.RecordAssignment:
			if s.Adopted {
				p.Kept = append(p.Kept, "assignment "+describe(s)+" (there before warden)")
				continue
			}
			assignments = append(assignments, key)
			p.Assignments = append(p.Assignments, describe(s))
		case resource.RecordGroup:
			switch {
			case s.Adopted:
				p.Kept = append(p.Kept, fmt.Sprintf("group %s (there before warden)", s.Name))
			case deleteGroups:
				groups = append(groups, key)
				p.Groups = append(p.Groups, s.Name)
			default:
				p.Kept = append(p.Kept, fmt.Sprintf("group %s (created by warden; --delete-groups deletes it)", s.Name))
			}
		case resource.RecordUser:
			users++
		}
	}
	if users > 0 {
		p.Kept = append(p.Kept, fmt.Sprintf("%d users (people keep their Identity Center identity)", users))
	}
	if dryRun {
		return p, nil
	}
	// First the mark, so that no replica re-creates what is being removed.
	if e.records[UninstalledKey] == nil {
		if err := e.putRecord(ctx, UninstalledKey, &resource.SyncRecordSpec{Type: resource.RecordUninstalled}); err != nil {
			return nil, err
		}
	}
	e.cache, e.last, e.compiler = nil, nil, nil
	fail := func(what string, err error) { p.Errors = append(p.Errors, fmt.Sprintf("%s: %v", what, err)) }
	// Send every deletion (the rate limiter paces them), then wait for each: they provision together.
	type sent struct {
		key string
		op  idc.Operation
	}
	var pending []sent
	for i, key := range assignments {
		s := e.records[key].Spec.(*resource.SyncRecordSpec)
		op, err := e.idc.DeleteAssignment(ctx, idc.Assignment{PrincipalType: s.PrincipalType, PrincipalID: s.IDCID, AccountID: s.AccountID, PermissionSetARN: s.PermissionSetARN})
		switch {
		case idc.IsNotFound(err):
			if err := e.dropRecord(ctx, key); err != nil {
				return nil, err
			}
		case err != nil:
			fail("deleting "+p.Assignments[i], err)
		default:
			pending = append(pending, sent{key, op})
		}
	}
	for _, x := range pending {
		op, err := e.poll(ctx, x.op, e.idc.DeletionStatus)
		if err == nil && op.Status == idc.Failed {
			err = fmt.Errorf("FAILED: %s", op.FailureReason)
		}
		if err != nil {
			fail("deleting "+describe(e.records[x.key].Spec.(*resource.SyncRecordSpec)), err)
			continue
		}
		if err := e.dropRecord(ctx, x.key); err != nil {
			return nil, err
		}
	}
	if len(p.Errors) > 0 && len(groups) > 0 {
		groups = nil // a group goes only once no assignment of warden's is left on it
		fail("groups", errors.New("kept until every assignment is deleted: run the uninstall again"))
	}
	for _, key := range groups {
		s := e.records[key].Spec.(*resource.SyncRecordSpec)
		if err := e.idc.Dir().DeleteGroup(ctx, s.IDCID); err != nil {
			fail("deleting group "+s.Name, err)
			continue
		}
		if err := e.dropRecord(ctx, key); err != nil {
			return nil, err
		}
	}
	sort.Strings(p.Errors)
	p.Done = len(p.Errors) == 0
	e.log.Info("sync: the integration is uninstalled", "assignments", len(assignments), "groups", len(groups), "errors", len(p.Errors))
	return p, nil
}
