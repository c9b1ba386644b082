package idcsim

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

var (
	instanceARNRE = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`)
	psARNRE       = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`)
	psNameRE      = regexp.MustCompile(`^[\w+=,.@-]{1,32}$`)
	accountIDRE   = regexp.MustCompile(`^\d{12}$`)
	principalRE   = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
	requestIDRE   = regexp.MustCompile(`^[a-zA-Z0-9-]{36}$`)
	durationRE    = regexp.MustCompile(`^(-?)P(?:([.,0-9]+)Y)?(?:([.,0-9]+)M)?(?:([.,0-9]+)W)?(?:([.,0-9]+)D)?(?:T(?:([.,0-9]+)H)?(?:([.,0-9]+)M)?(?:([.,0-9]+)S)?)?$`)
	managedARNRE  = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):iam::aws:policy/[\w+=,.@/-]+$`)
)

func (s *Sim) checkInstance(arn *string) error {
	if arn == nil || *arn == "" {
		return required("InstanceArn", arn)
	}
	if !instanceARNRE.MatchString(*arn) {
		return errValidation("1 validation error detected: Value '%s' at 'instanceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}", *arn)
	}
	if *arn != s.st.Instance.InstanceArn {
		return errNotFound("", "", "Instance %s does not exist", *arn)
	}
	return nil
}

func (s *Sim) permissionSet(arn *string) (*permissionSet, error) {
	if arn == nil || *arn == "" {
		return nil, required("PermissionSetArn", arn)
	}
	if !psARNRE.MatchString(*arn) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'permissionSetArn' failed to satisfy constraint: Member must satisfy regular expression pattern", *arn)
	}
	ps := s.st.PermissionSets[*arn]
	if ps == nil {
		return nil, errNotFound("", "", "Could not find PermissionSet with PermissionSetArn %s", *arn)
	}
	return ps, nil
}

func checkAccountID(field string, id *string) error {
	if id == nil || *id == "" {
		return required(field, id)
	}
	if !accountIDRE.MatchString(*id) {
		return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}", *id, lowerFirst(field))
	}
	return nil
}

type pageIn struct {
	MaxResults *int
	NextToken  *string
}

func init() {
	registerJSON(svcSSOAdmin, "ListInstances", func(s *Sim, req *pageIn) (any, error) {
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		keys, next, err := pageOf([]string{s.st.Instance.InstanceArn}, "ListInstances", "", req.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for range keys {
			out = append(out, s.st.Instance)
		}
		return map[string]any{"Instances": out, "NextToken": next}, nil
	})
	registerJSON(svcSSOAdmin, "DescribeInstance", func(s *Sim, req *struct{ InstanceArn *string }) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		return s.st.Instance, nil
	})

	// ---- permission sets ----
	registerJSON(svcSSOAdmin, "ListPermissionSets", func(s *Sim, req *struct {
		InstanceArn *string
		pageIn
	}) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		keys, next, err := pageOf(sortedKeys(s.st, "permission-sets", s.st.PermissionSets), "ListPermissionSets", "", req.NextToken, size)
		if err != nil {
			return nil, err
		}
		return map[string]any{"PermissionSets": nonNil(keys), "NextToken": next}, nil
	})
	registerJSON(svcSSOAdmin, "DescribePermissionSet", func(s *Sim, req *struct{ InstanceArn, PermissionSetArn *string }) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		return map[string]any{"PermissionSet": ps}, nil
	})
	registerJSON(svcSSOAdmin, "CreatePermissionSet", func(s *Sim, req *struct {
		InstanceArn, Name, Description, SessionDuration, RelayState *string
		Tags                                                        []tag
	}) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		if err := required("Name", req.Name); err != nil {
			return nil, err
		}
		ps := &permissionSet{Name: *req.Name}
		if err := applyPermissionSetFields(ps, req.Description, req.SessionDuration, req.RelayState); err != nil {
			return nil, err
		}
		if err := checkTags(req.Tags); err != nil {
			return nil, err
		}
		if ps.Tags = mergeTags(nil, req.Tags); len(ps.Tags) > maxTags {
			return nil, errValidation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
		}
		return s.dir().createPermissionSet(ps)
	})
	registerJSON(svcSSOAdmin, "UpdatePermissionSet", func(s *Sim, req *struct{ InstanceArn, PermissionSetArn, Description, SessionDuration, RelayState *string }) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		if err := s.conflictOnRecentWrite(ps.PermissionSetArn); err != nil {
			return nil, err
		}
		c := *ps
		if err := applyPermissionSetFields(&c, req.Description, req.SessionDuration, req.RelayState); err != nil {
			return nil, err
		}
		*ps = c
		s.st.permissionSetChanged(ps.PermissionSetArn)
		return struct{}{}, nil
	})
	registerJSON(svcSSOAdmin, "DeletePermissionSet", func(s *Sim, req *struct{ InstanceArn, PermissionSetArn *string }) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		if err := s.st.checkDeletable(ps.PermissionSetArn); err != nil {
			return nil, err
		}
		for acct, set := range s.st.Provisioned {
			if set[ps.PermissionSetArn] {
				s.st.deprovision(acct, ps.PermissionSetArn) // its roles go with it
			}
		}
		delete(s.st.PermissionSets, ps.PermissionSetArn)
		s.st.dirty("permission-sets")
		return struct{}{}, nil
	})
	registerJSON(svcSSOAdmin, "PutInlinePolicyToPermissionSet", func(s *Sim, req *struct{ InstanceArn, PermissionSetArn, InlinePolicy *string }) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		if err := required("InlinePolicy", req.InlinePolicy); err != nil {
			return nil, err
		}
		if len(*req.InlinePolicy) > 32768 {
			return nil, errValidation("1 validation error detected: Value at 'inlinePolicy' failed to satisfy constraint: Member must have length less than or equal to 32768")
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(*req.InlinePolicy), &doc); err != nil {
			return nil, errValidation("The inline policy is not a valid JSON policy document: %v", err)
		}
		ps.InlinePolicy = *req.InlinePolicy
		s.st.permissionSetChanged(ps.PermissionSetArn)
		return struct{}{}, nil
	})
	registerJSON(svcSSOAdmin, "GetInlinePolicyForPermissionSet", func(s *Sim, req *struct{ InstanceArn, PermissionSetArn *string }) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		return map[string]any{"InlinePolicy": ps.InlinePolicy}, nil
	})
	registerJSON(svcSSOAdmin, "AttachManagedPolicyToPermissionSet", func(s *Sim, req *struct{ InstanceArn, PermissionSetArn, ManagedPolicyArn *string }) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		if err := required("ManagedPolicyArn", req.ManagedPolicyArn); err != nil {
			return nil, err
		}
		if !managedARNRE.MatchString(*req.ManagedPolicyArn) {
			return nil, errValidation("1 validation error detected: Value '%s' at 'managedPolicyArn' failed to satisfy constraint: Member must be an AWS managed policy ARN", *req.ManagedPolicyArn)
		}
		for _, p := range ps.ManagedPolicies {
			if p.Arn == *req.ManagedPolicyArn {
				// Permanent until the policy is detached: not a ConflictException, which AWS's model
				// describes as a write that has not propagated yet, to retry.
				return nil, errValidation("Policy %s is already attached to permission set %s", p.Arn, ps.Name)
			}
		}
		if len(ps.ManagedPolicies)+len(ps.CustomerPolicies) >= maxPolicies {
			return nil, &apiError{status: 400, code: "ServiceQuotaExceededException", message: "A permission set holds at most 20 managed policies, AWS managed and customer managed together"}
		}
		ps.ManagedPolicies = append(ps.ManagedPolicies, managedPolicy{Arn: *req.ManagedPolicyArn, Name: (*req.ManagedPolicyArn)[strings.LastIndex(*req.ManagedPolicyArn, "/")+1:]})
		s.st.permissionSetChanged(ps.PermissionSetArn)
		return struct{}{}, nil
	})
	registerJSON(svcSSOAdmin, "ListManagedPoliciesInPermissionSet", func(s *Sim, req *struct {
		InstanceArn, PermissionSetArn *string
		pageIn
	}) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		byARN := map[string]managedPolicy{}
		var keys []string
		for _, p := range ps.ManagedPolicies {
			byARN[p.Arn] = p
			keys = append(keys, p.Arn)
		}
		sort.Strings(keys)
		page, next, err := pageOf(keys, "ListManagedPoliciesInPermissionSet", ps.PermissionSetArn, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := []managedPolicy{}
		for _, k := range page {
			out = append(out, byARN[k])
		}
		return map[string]any{"AttachedManagedPolicies": out, "NextToken": next}, nil
	})
	registerJSON(svcSSOAdmin, "ListPermissionSetsProvisionedToAccount", func(s *Sim, req *struct {
		InstanceArn, AccountId, ProvisioningStatus *string
		pageIn
	}) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		if err := checkAccountID("AccountId", req.AccountId); err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		latest, filtered, err := provisioningFilter(req.ProvisioningStatus)
		if err != nil {
			return nil, err
		}
		acct := *req.AccountId
		keys := sortedKeys(s.st, "provisioned:"+acct, s.st.Provisioned[acct])
		params := acct
		if filtered {
			var match []string
			for _, arn := range keys {
				if !s.st.Outdated[acct][arn] == latest {
					match = append(match, arn)
				}
			}
			keys, params = match, acct+"|"+*req.ProvisioningStatus
		}
		page, next, err := pageOf(keys, "ListPermissionSetsProvisionedToAccount", params, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		return map[string]any{"PermissionSets": nonNil(page), "NextToken": next}, nil
	})
	registerJSON(svcSSOAdmin, "ListAccountsForProvisionedPermissionSet", func(s *Sim, req *struct {
		InstanceArn, PermissionSetArn, ProvisioningStatus *string
		pageIn
	}) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		latest, filtered, err := provisioningFilter(req.ProvisioningStatus)
		if err != nil {
			return nil, err
		}
		var accounts []string
		for acct, set := range s.st.Provisioned {
			if set[ps.PermissionSetArn] && (!filtered || !s.st.Outdated[acct][ps.PermissionSetArn] == latest) {
				accounts = append(accounts, acct)
			}
		}
		sort.Strings(accounts)
		params := ps.PermissionSetArn
		if filtered {
			params += "|" + *req.ProvisioningStatus
		}
		keys, next, err := pageOf(accounts, "ListAccountsForProvisionedPermissionSet", params, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		return map[string]any{"AccountIds": nonNil(keys), "NextToken": next}, nil
	})

	// ---- assignments ----
	registerJSON(svcSSOAdmin, "ListAccountAssignments", func(s *Sim, req *struct {
		InstanceArn, AccountId, PermissionSetArn *string
		pageIn
	}) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		if err := checkAccountID("AccountId", req.AccountId); err != nil {
			return nil, err
		}
		ps, err := s.permissionSet(req.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		tk := targetKey(*req.AccountId, ps.PermissionSetArn)
		keys, next, err := pageOf(sortedKeys(s.st, "target:"+tk, s.st.byTarget[tk]), "ListAccountAssignments", tk, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := []*assignment{}
		for _, k := range keys {
			out = append(out, s.st.Assignments[k])
		}
		return map[string]any{"AccountAssignments": out, "NextToken": next}, nil
	})
	registerJSON(svcSSOAdmin, "ListAccountAssignmentsForPrincipal", func(s *Sim, req *struct {
		InstanceArn, PrincipalId, PrincipalType *string
		Filter                                  *struct{ AccountId *string }
		pageIn
	}) (any, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		if err := checkPrincipal(req.PrincipalType, req.PrincipalId); err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		keys := sortedKeys(s.st, "principal:"+*req.PrincipalId, s.st.byPrincipal[*req.PrincipalId])
		params := *req.PrincipalType + "|" + *req.PrincipalId
		if req.Filter != nil && req.Filter.AccountId != nil {
			if err := checkAccountID("Filter.AccountId", req.Filter.AccountId); err != nil {
				return nil, err
			}
			var filtered []string
			for _, k := range keys {
				if strings.HasPrefix(k, *req.Filter.AccountId+"|") {
					filtered = append(filtered, k)
				}
			}
			keys = filtered
			params += "|" + *req.Filter.AccountId
		}
		var typed []string
		for _, k := range keys {
			if s.st.Assignments[k].PrincipalType == *req.PrincipalType {
				typed = append(typed, k)
			}
		}
		page, next, err := pageOf(typed, "ListAccountAssignmentsForPrincipal", params, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := []*assignment{}
		for _, k := range page {
			out = append(out, s.st.Assignments[k])
		}
		return map[string]any{"AccountAssignments": out, "NextToken": next}, nil
	})
	register(svcSSOAdmin, "CreateAccountAssignment", func(s *Sim, in []byte) (any, error) {
		op, err := s.assignmentOp(in, opCreate)
		if err != nil {
			return nil, err
		}
		return map[string]any{"AccountAssignmentCreationStatus": op}, nil
	})
	register(svcSSOAdmin, "DeleteAccountAssignment", func(s *Sim, in []byte) (any, error) {
		op, err := s.assignmentOp(in, opDelete)
		if err != nil {
			return nil, err
		}
		return map[string]any{"AccountAssignmentDeletionStatus": op}, nil
	})
	registerJSON(svcSSOAdmin, "DescribeAccountAssignmentCreationStatus", func(s *Sim, req *struct{ InstanceArn, AccountAssignmentCreationRequestId *string }) (any, error) {
		op, err := s.describeOp(req.InstanceArn, "AccountAssignmentCreationRequestId", req.AccountAssignmentCreationRequestId, opCreate)
		if err != nil {
			return nil, err
		}
		return map[string]any{"AccountAssignmentCreationStatus": op}, nil
	})
	registerJSON(svcSSOAdmin, "DescribeAccountAssignmentDeletionStatus", func(s *Sim, req *struct{ InstanceArn, AccountAssignmentDeletionRequestId *string }) (any, error) {
		op, err := s.describeOp(req.InstanceArn, "AccountAssignmentDeletionRequestId", req.AccountAssignmentDeletionRequestId, opDelete)
		if err != nil {
			return nil, err
		}
		return map[string]any{"AccountAssignmentDeletionStatus": op}, nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func applyPermissionSetFields(ps *permissionSet, description, sessionDuration, relayState *string) error {
	if !psNameRE.MatchString(ps.Name) {
		return errValidation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 32", ps.Name)
	}
	if description != nil {
		if len(*description) > 700 {
			return errValidation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 700")
		}
		ps.Description = *description
	}
	if sessionDuration != nil {
		if len(*sessionDuration) > 100 {
			return errValidation("1 validation error detected: Value at 'sessionDuration' failed to satisfy constraint: Member must have length less than or equal to 100")
		}
		d, ok := parseISODuration(*sessionDuration)
		if !ok {
			return errValidation("1 validation error detected: Value '%s' at 'sessionDuration' failed to satisfy constraint: Member must be an ISO-8601 duration", *sessionDuration)
		}
		if d < time.Hour || d > 12*time.Hour {
			return errValidation("The session duration %s must be between PT1H and PT12H", *sessionDuration)
		}
		ps.SessionDuration = *sessionDuration
	}
	if relayState != nil {
		if len(*relayState) > 240 {
			return errValidation("1 validation error detected: Value at 'relayState' failed to satisfy constraint: Member must have length less than or equal to 240")
		}
		ps.RelayState = *relayState
	}
	return nil
}

// parseISODuration reads the PnDTnHnMnS subset AWS uses for session durations.
func parseISODuration(s string) (time.Duration, bool) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil || m[1] != "" || m[2] != "" || m[3] != "" || m[4] != "" || s == "P" || s == "PT" {
		return 0, false
	}
	// Summed in float64 seconds, which do not wrap round as time.Durations do: two components too
	// large for a Duration must not add up to a small one.
	var secs float64
	units := []float64{0, 0, 0, 0, 0, 24 * 3600, 3600, 60, 1}
	for i := 5; i < len(m); i++ {
		if m[i] == "" {
			continue
		}
		var f float64
		if _, err := fmt.Sscanf(strings.ReplaceAll(m[i], ",", "."), "%g", &f); err != nil {
			return 0, false
		}
		secs += f * units[i]
	}
	if secs >= float64(math.MaxInt64)/float64(time.Second) {
		return math.MaxInt64, true // far longer than any limit
	}
	return time.Duration(secs * float64(time.Second)), true
}

func checkPrincipal(ptype, pid *string) error {
	if err := required("PrincipalType", ptype, "PrincipalId", pid); err != nil {
		return err
	}
	if *ptype != "USER" && *ptype != "GROUP" {
		return errValidation("1 validation error detected: Value '%s' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]", *ptype)
	}
	if !principalRE.MatchString(*pid) {
		return errValidation("1 validation error detected: Value '%s' at 'principalId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$", *pid)
	}
	return nil
}

func (s *Sim) assignmentOp(in []byte, kind string) (*operation, error) {
	var req struct{ InstanceArn, TargetId, TargetType, PermissionSetArn, PrincipalType, PrincipalId *string }
	if err := decode(in, &req); err != nil {
		return nil, err
	}
	if err := s.checkInstance(req.InstanceArn); err != nil {
		return nil, err
	}
	if err := checkAccountID("TargetId", req.TargetId); err != nil {
		return nil, err
	}
	if err := required("TargetType", req.TargetType); err != nil {
		return nil, err
	}
	if *req.TargetType != "AWS_ACCOUNT" {
		return nil, errValidation("1 validation error detected: Value '%s' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT]", *req.TargetType)
	}
	if err := checkPrincipal(req.PrincipalType, req.PrincipalId); err != nil {
		return nil, err
	}
	ps, err := s.permissionSet(req.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	a := assignment{AccountId: *req.TargetId, PermissionSetArn: ps.PermissionSetArn, PrincipalType: *req.PrincipalType, PrincipalId: *req.PrincipalId}
	if kind == opCreate && s.opts.MaxOutstandingCreates > 0 && s.st.outstanding(opCreate) >= s.opts.MaxOutstandingCreates {
		s.stats.Throttled++
		return nil, &apiError{status: 400, code: "ThrottlingException", message: fmt.Sprintf("Too many outstanding account assignment creations (at most %d)", s.opts.MaxOutstandingCreates)}
	}
	if err := s.conflictOnRecentWrite("assignment:" + a.key()); err != nil {
		return nil, err
	}
	now := s.now()
	op := &operation{
		RequestId: s.st.requestID(), Kind: kind, Status: "IN_PROGRESS", TargetId: a.AccountId, TargetType: "AWS_ACCOUNT",
		PermissionSetArn: a.PermissionSetArn, PrincipalType: a.PrincipalType, PrincipalId: a.PrincipalId,
		CreatedDate: epoch(now), completeAt: now.Add(s.opts.ProvisioningDelay),
		willFail: s.opts.FailRate > 0 && s.rng.Float64() < s.opts.FailRate,
	}
	s.st.Operations[op.RequestId] = op
	s.st.pending = append(s.st.pending, op.RequestId)
	s.st.outstandingByOp[kind]++
	if n := s.st.outstanding(opCreate); n > s.stats.MaxOutstandingCreates {
		s.stats.MaxOutstandingCreates = n
	}
	c := *op
	return &c, nil
}

func (s *Sim) describeOp(instanceArn *string, field string, id *string, kind string) (*operation, error) {
	if err := s.checkInstance(instanceArn); err != nil {
		return nil, err
	}
	if err := required(field, id); err != nil {
		return nil, err
	}
	if !requestIDRE.MatchString(*id) {
		return nil, errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: \\b[0-9a-f]{8}\\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\\b[0-9a-f]{12}\\b", *id, lowerFirst(field))
	}
	op := s.st.Operations[*id]
	if op == nil || op.Kind != kind {
		return nil, errNotFound("", "", "Could not find the request with id %s", *id)
	}
	c := *op
	return &c, nil
}
