package idcsim

import (
	"fmt"
	"sort"
	"time"
)

// Provisioning: a permission set is provisioned to an account (an IAM role made there) by the first
// assignment created with it in that account, or by ProvisionPermissionSet; it is removed with the
// account's last assignment of it. A provisioned role is behind its permission set (outdated) from
// the set's next change until ProvisionPermissionSet reaches it again.

// provisioning is one ProvisionPermissionSet operation, as snapshots keep it.
type provisioning struct {
	RequestId        string
	Status           string
	AccountId        string `json:",omitempty"` // empty: ALL_PROVISIONED_ACCOUNTS
	PermissionSetArn string
	FailureReason    string `json:",omitempty"`
	CreatedDate      float64
	CompleteAt       time.Time
}

// provisioningStatus is the model's PermissionSetProvisioningStatus.
type provisioningStatus struct {
	Status           string
	RequestId        string
	AccountId        string `json:",omitempty"`
	PermissionSetArn string
	FailureReason    string `json:",omitempty"`
	CreatedDate      float64
}

func (p *provisioning) status() provisioningStatus {
	return provisioningStatus{p.Status, p.RequestId, p.AccountId, p.PermissionSetArn, p.FailureReason, p.CreatedDate}
}

// operationMetadata is the model's AccountAssignmentOperationStatusMetadata and
// PermissionSetProvisioningStatusMetadata.
type operationMetadata struct {
	Status      string
	RequestId   string
	CreatedDate float64
}

var statusValues = map[string]bool{"IN_PROGRESS": true, "FAILED": true, "SUCCEEDED": true}

// provisioningFilter reads a ProvisioningStatus filter: whether it asks for the latest permission
// set provisioned, and whether there is one.
func provisioningFilter(v *string) (latest, filtered bool, err error) {
	if v == nil {
		return false, false, nil
	}
	switch *v {
	case "LATEST_PERMISSION_SET_PROVISIONED":
		return true, true, nil
	case "LATEST_PERMISSION_SET_NOT_PROVISIONED":
		return false, true, nil
	}
	return false, false, errValidation("1 validation error detected: Value '%s' at 'provisioningStatus' failed to satisfy constraint: Member must satisfy enum value set: [LATEST_PERMISSION_SET_PROVISIONED, LATEST_PERMISSION_SET_NOT_PROVISIONED]", *v)
}

func statusFilter(f *struct{ Status *string }) (string, error) {
	if f == nil || f.Status == nil {
		return "", nil
	}
	if !statusValues[*f.Status] {
		return "", errValidation("1 validation error detected: Value '%s' at 'filter.status' failed to satisfy constraint: Member must satisfy enum value set: [IN_PROGRESS, FAILED, SUCCEEDED]", *f.Status)
	}
	return *f.Status, nil
}

func init() {
	registerJSON(svcSSOAdmin, "ProvisionPermissionSet", func(s *Sim, req *struct{ InstanceArn, PermissionSetArn, TargetType, TargetId *string }) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		if err := required("TargetType", req.TargetType); err != nil {
			return nil, err
		}
		account := ""
		switch *req.TargetType {
		case "AWS_ACCOUNT":
			if err := checkAccountID("TargetId", req.TargetId); err != nil {
				return nil, err
			}
			if s.st.Accounts[*req.TargetId] == nil {
				return nil, errNotFound("", "", "Account %s is not in the organization", *req.TargetId)
			}
			account = *req.TargetId
		case "ALL_PROVISIONED_ACCOUNTS":
		default:
			return nil, errValidation("1 validation error detected: Value '%s' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT, ALL_PROVISIONED_ACCOUNTS]", *req.TargetType)
		}
		// One provisioning of a permission set at a time per account: a second one waits for the
		// first, which ends by itself (a transient conflict, to retry).
		for _, id := range s.st.pending {
			if p := s.st.Provisionings[id]; p != nil && p.PermissionSetArn == ps.PermissionSetArn && (p.AccountId == "" || account == "" || p.AccountId == account) {
				return nil, errConflict("", "A provisioning of permission set %s is in progress (request %s); retry when it ends", ps.PermissionSetArn, p.RequestId)
			}
		}
		now := s.now()
		p := &provisioning{RequestId: s.st.requestID(), Status: "IN_PROGRESS", AccountId: account, PermissionSetArn: ps.PermissionSetArn,
			CreatedDate: epoch(now), CompleteAt: now.Add(s.opts.ProvisioningDelay)}
		s.st.Provisionings[p.RequestId] = p
		s.st.pending = append(s.st.pending, p.RequestId)
		return map[string]any{"PermissionSetProvisioningStatus": p.status()}, nil
	})
	registerJSON(svcSSOAdmin, "DescribePermissionSetProvisioningStatus", func(s *Sim, req *struct{ InstanceArn, ProvisionPermissionSetRequestId *string }) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		if err := checkRequestID("ProvisionPermissionSetRequestId", req.ProvisionPermissionSetRequestId); err != nil {
			return nil, err
		}
		p := s.st.Provisionings[*req.ProvisionPermissionSetRequestId]
		if p == nil {
			return nil, errNotFound("", "", "Could not find the request with id %s", *req.ProvisionPermissionSetRequestId)
		}
		return map[string]any{"PermissionSetProvisioningStatus": p.status()}, nil
	})
	type listStatusIn struct {
		InstanceArn *string
		Filter      *struct{ Status *string }
		pageIn
	}
	listStatus := func(s *Sim, req *listStatusIn, op, kind string) ([]operationMetadata, *string, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, nil, err
		}
		status, err := statusFilter(req.Filter)
		if err != nil {
			return nil, nil, err
		}
		// Oldest first, by creation then request id.
		byKey := map[string]operationMetadata{}
		add := func(m operationMetadata) {
			if status == "" || m.Status == status {
				byKey[fmt.Sprintf("%020.6f|%s", m.CreatedDate, m.RequestId)] = m
			}
		}
		if kind == "provision" {
			for _, p := range s.st.Provisionings {
				add(operationMetadata{p.Status, p.RequestId, p.CreatedDate})
			}
		} else {
			for _, o := range s.st.Operations {
				if o.Kind == kind {
					add(operationMetadata{o.Status, o.RequestId, o.CreatedDate})
				}
			}
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		page, next, err := pageOf(keys, op, status, req.NextToken, size)
		if err != nil {
			return nil, nil, err
		}
		out := make([]operationMetadata, 0, len(page))
		for _, k := range page {
			out = append(out, byKey[k])
		}
		return out, next, nil
	}
	registerJSON(svcSSOAdmin, "ListPermissionSetProvisioningStatus", func(s *Sim, req *listStatusIn) (any, error) {
		out, next, err := listStatus(s, req, "ListPermissionSetProvisioningStatus", "provision")
		if err != nil {
			return nil, err
		}
		return map[string]any{"PermissionSetsProvisioningStatus": out, "NextToken": next}, nil
	})
	registerJSON(svcSSOAdmin, "ListAccountAssignmentCreationStatus", func(s *Sim, req *listStatusIn) (any, error) {
		out, next, err := listStatus(s, req, "ListAccountAssignmentCreationStatus", opCreate)
		if err != nil {
			return nil, err
		}
		return map[string]any{"AccountAssignmentsCreationStatus": out, "NextToken": next}, nil
	})
	registerJSON(svcSSOAdmin, "ListAccountAssignmentDeletionStatus", func(s *Sim, req *listStatusIn) (any, error) {
		out, next, err := listStatus(s, req, "ListAccountAssignmentDeletionStatus", opDelete)
		if err != nil {
			return nil, err
		}
		return map[string]any{"AccountAssignmentsDeletionStatus": out, "NextToken": next}, nil
	})
}

func checkRequestID(field string, id *string) error {
	if err := required(field, id); err != nil {
		return err
	}
	if !requestIDRE.MatchString(*id) {
		return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: \\b[0-9a-f]{8}\\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\\b[0-9a-f]{12}\\b", *id, lowerFirst(field))
	}
	return nil
}

// checkDeletable refuses to delete a permission set that account assignments use: a
// ValidationException while one exists that no deletion in progress is removing (it stays until the
// caller deletes them), a ConflictException while only operations in progress name it (it passes
// when they end).
func (st *state) checkDeletable(arn string) error {
	deleting := map[string]bool{}
	for _, id := range st.pending {
		if op := st.Operations[id]; op != nil && op.Kind == opDelete && op.PermissionSetArn == arn {
			deleting[assignment{op.TargetId, op.PermissionSetArn, op.PrincipalType, op.PrincipalId}.key()] = true
		}
	}
	for acct, set := range st.Provisioned {
		if !set[arn] {
			continue
		}
		for k := range st.byTarget[targetKey(acct, arn)] {
			if !deleting[k] {
				return errValidation("PermissionSet %s is used by account assignments in account %s; delete them first", arn, acct)
			}
		}
	}
	for _, id := range st.pending {
		if op := st.Operations[id]; op != nil && op.PermissionSetArn == arn {
			return errConflict("", "An account assignment operation on PermissionSet %s is in progress (request %s); retry when it ends", arn, id)
		}
		if p := st.Provisionings[id]; p != nil && p.PermissionSetArn == arn {
			return errConflict("", "A provisioning of PermissionSet %s is in progress (request %s); retry when it ends", arn, id)
		}
	}
	return nil
}

// permissionSetChanged puts every role provisioned from the permission set behind it.
func (st *state) permissionSetChanged(arn string) {
	for acct, set := range st.Provisioned {
		if set[arn] {
			if st.Outdated[acct] == nil {
				st.Outdated[acct] = map[string]bool{}
			}
			st.Outdated[acct][arn] = true
		}
	}
}

// provision makes the permission set's role in the account, as the permission set is now.
func (st *state) provision(account, ps string) {
	if st.Provisioned[account] == nil {
		st.Provisioned[account] = map[string]bool{}
	}
	if !st.Provisioned[account][ps] {
		st.Provisioned[account][ps] = true
		st.dirty("provisioned:" + account)
	}
	delete(st.Outdated[account], ps)
}

// deprovision removes the permission set's role from the account.
func (st *state) deprovision(account, ps string) {
	if st.Provisioned[account][ps] {
		delete(st.Provisioned[account], ps)
		st.dirty("provisioned:" + account)
	}
	delete(st.Outdated[account], ps)
}

func (st *state) addAssignment(a assignment) {
	if st.Assignments[a.key()] != nil {
		return
	}
	st.Assignments[a.key()] = &a
	st.indexAssignment(&a)
	// The first assignment provisions the permission set; a role already there is left as it is
	// (AWS: later changes reach it only through ProvisionPermissionSet).
	if !st.Provisioned[a.AccountId][a.PermissionSetArn] {
		st.provision(a.AccountId, a.PermissionSetArn)
	}
}

func (st *state) removeAssignment(a assignment) {
	cur := st.Assignments[a.key()]
	if cur == nil {
		return
	}
	delete(st.Assignments, a.key())
	st.unindexAssignment(cur)
	// The role goes with the account's last assignment of the permission set.
	if len(st.byTarget[targetKey(a.AccountId, a.PermissionSetArn)]) == 0 {
		st.deprovision(a.AccountId, a.PermissionSetArn)
	}
}

// settle completes every operation whose time has passed, oldest first.
func (s *Sim) settle() {
	now := s.now()
	st := s.st
	for len(st.pending) > 0 {
		id := st.pending[0]
		if c := st.AccountCreations[id]; c != nil {
			if now.Before(c.CompleteAt) {
				return
			}
			st.pending = st.pending[1:]
			s.completeAccountCreation(c)
			continue
		}
		if p := st.Provisionings[id]; p != nil {
			if now.Before(p.CompleteAt) {
				return
			}
			st.pending = st.pending[1:]
			s.completeProvisioning(p)
			continue
		}
		op := st.Operations[id]
		if op == nil {
			st.pending = st.pending[1:]
			continue
		}
		if now.Before(op.completeAt) {
			return
		}
		st.pending = st.pending[1:]
		s.completeAssignmentOp(op)
	}
}

func (s *Sim) completeProvisioning(p *provisioning) {
	st := s.st
	switch {
	case st.PermissionSets[p.PermissionSetArn] == nil:
		p.Status, p.FailureReason = "FAILED", fmt.Sprintf("PermissionSet %s no longer exists", p.PermissionSetArn)
	case p.AccountId != "" && st.Accounts[p.AccountId] == nil:
		p.Status, p.FailureReason = "FAILED", fmt.Sprintf("Account %s is not a member of the organization", p.AccountId)
	case p.AccountId != "":
		st.provision(p.AccountId, p.PermissionSetArn)
		p.Status = "SUCCEEDED"
	default:
		for acct, set := range st.Provisioned {
			if set[p.PermissionSetArn] {
				st.provision(acct, p.PermissionSetArn)
			}
		}
		p.Status = "SUCCEEDED"
	}
}

func (s *Sim) completeAssignmentOp(op *operation) {
	st := s.st
	st.outstandingByOp[op.Kind]--
	a := assignment{AccountId: op.TargetId, PermissionSetArn: op.PermissionSetArn, PrincipalType: op.PrincipalType, PrincipalId: op.PrincipalId}
	reason := ""
	switch {
	case op.willFail:
		reason = "Request failed: an injected provisioning fault (the simulator's FailRate)"
	case op.Kind == opCreate && st.Accounts[a.AccountId] == nil:
		reason = fmt.Sprintf("Account %s is not a member of the organization", a.AccountId)
	case op.Kind == opCreate && st.PermissionSets[a.PermissionSetArn] == nil:
		reason = fmt.Sprintf("PermissionSet %s no longer exists", a.PermissionSetArn)
	case op.Kind == opCreate && a.PrincipalType == "USER" && st.Users[a.PrincipalId] == nil:
		reason = fmt.Sprintf("Principal %s of type USER is not found in the identity store", a.PrincipalId)
	case op.Kind == opCreate && a.PrincipalType == "GROUP" && st.Groups[a.PrincipalId] == nil:
		reason = fmt.Sprintf("Principal %s of type GROUP is not found in the identity store", a.PrincipalId)
	}
	if reason != "" {
		op.Status, op.FailureReason = "FAILED", reason
		s.stats.Failed++
		return
	}
	op.Status = "SUCCEEDED"
	if op.Kind == opCreate {
		st.addAssignment(a)
	} else {
		st.removeAssignment(a)
	}
}
