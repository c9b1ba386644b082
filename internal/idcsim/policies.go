package idcsim

import (
	"regexp"
	"sort"
)

// A permission set's policies beyond the inline one and AWS managed policies: customer managed
// policy references, a permissions boundary, and its tags.

var (
	policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	policyPathRE = regexp.MustCompile(`^((/[A-Za-z0-9\.,\+@=_-]+)*)/$`)
	tagRE        = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// maxPolicies is how many managed policies, AWS managed and customer managed together, a
// permission set holds: its role's managed policies.
const maxPolicies = 20

// maxTags is how many tags a permission set holds (TagList: at most 50).
const maxTags = 50

// checkCustomerPolicy validates a CustomerManagedPolicyReference and gives Path its default, "/".
func checkCustomerPolicy(field string, ref *customerPolicy) (customerPolicy, error) {
	if ref == nil {
		return customerPolicy{}, required(field, (*string)(nil))
	}
	c := *ref
	if !policyNameRE.MatchString(c.Name) {
		return c, errValidation("1 validation error detected: Value '%s' at '%s.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 128", c.Name, lowerFirst(field))
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if len(c.Path) > 512 || !policyPathRE.MatchString(c.Path) {
		return c, errValidation("1 validation error detected: Value '%s' at '%s.path' failed to satisfy constraint: Member must satisfy regular expression pattern: ((/[A-Za-z0-9\\.,\\+@=_-]+)*)/", c.Path, lowerFirst(field))
	}
	return c, nil
}

// checkTags validates tags as the model's Tag does: a key of 1-128 and a value of 0-256 characters
// of its pattern.
func checkTags(tags []tag) error {
	for i, t := range tags {
		if len([]rune(t.Key)) < 1 || len([]rune(t.Key)) > 128 || !tagRE.MatchString(t.Key) {
			return errValidation("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length between 1 and 128 and satisfy the tag pattern", t.Key, i+1)
		}
		if len([]rune(t.Value)) > 256 || !tagRE.MatchString(t.Value) {
			return errValidation("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to 256 and satisfy the tag pattern", t.Value, i+1)
		}
	}
	return nil
}

// mergeTags sets tags on the list, replacing the value of a key already there.
func mergeTags(list, tags []tag) []tag {
	out := append([]tag(nil), list...)
	for _, t := range tags {
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, found = t.Value, true
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

func init() {
	type psIn struct{ InstanceArn, PermissionSetArn *string }
	// target reads the instance and the permission set of a request.
	target := func(s *Sim, req psIn) (*permissionSet, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		return s.permissionSet(req.PermissionSetArn)
	}

	registerJSON(svcSSOAdmin, "DetachManagedPolicyFromPermissionSet", func(s *Sim, req *struct {
		psIn
		ManagedPolicyArn *string
	}) (any, error) {
		ps, err := target(s, req.psIn)
		if err != nil {
			return nil, err
		}
		if err := required("ManagedPolicyArn", req.ManagedPolicyArn); err != nil {
			return nil, err
		}
		for i, p := range ps.ManagedPolicies {
			if p.Arn == *req.ManagedPolicyArn {
				ps.ManagedPolicies = append(ps.ManagedPolicies[:i:i], ps.ManagedPolicies[i+1:]...)
				s.st.permissionSetChanged(ps.PermissionSetArn)
				return struct{}{}, nil
			}
		}
		return nil, errNotFound("", "", "Policy %s is not attached to permission set %s", *req.ManagedPolicyArn, ps.Name)
	})
	registerJSON(svcSSOAdmin, "DeleteInlinePolicyFromPermissionSet", func(s *Sim, req *psIn) (any, error) {
		ps, err := target(s, *req)
		if err != nil {
			return nil, err
		}
		if ps.InlinePolicy != "" {
			ps.InlinePolicy = ""
			s.st.permissionSetChanged(ps.PermissionSetArn)
		}
		return struct{}{}, nil
	})

	registerJSON(svcSSOAdmin, "AttachCustomerManagedPolicyReferenceToPermissionSet", func(s *Sim, req *struct {
		psIn
		CustomerManagedPolicyReference *customerPolicy
	}) (any, error) {
		ps, err := target(s, req.psIn)
		if err != nil {
			return nil, err
		}
		ref, err := checkCustomerPolicy("CustomerManagedPolicyReference", req.CustomerManagedPolicyReference)
		if err != nil {
			return nil, err
		}
		for _, p := range ps.CustomerPolicies {
			if p == ref {
				return nil, errValidation("Customer managed policy %s%s is already attached to permission set %s", ref.Path, ref.Name, ps.Name)
			}
		}
		if len(ps.ManagedPolicies)+len(ps.CustomerPolicies) >= maxPolicies {
			return nil, &apiError{status: 400, code: "ServiceQuotaExceededException", message: "A permission set holds at most 20 managed policies, AWS managed and customer managed together"}
		}
		ps.CustomerPolicies = append(ps.CustomerPolicies, ref)
		s.st.permissionSetChanged(ps.PermissionSetArn)
		return struct{}{}, nil
	})
	registerJSON(svcSSOAdmin, "DetachCustomerManagedPolicyReferenceFromPermissionSet", func(s *Sim, req *struct {
		psIn
		CustomerManagedPolicyReference *customerPolicy
	}) (any, error) {
		ps, err := target(s, req.psIn)
		if err != nil {
			return nil, err
		}
		ref, err := checkCustomerPolicy("CustomerManagedPolicyReference", req.CustomerManagedPolicyReference)
		if err != nil {
			return nil, err
		}
		for i, p := range ps.CustomerPolicies {
			if p == ref {
				ps.CustomerPolicies = append(ps.CustomerPolicies[:i:i], ps.CustomerPolicies[i+1:]...)
				s.st.permissionSetChanged(ps.PermissionSetArn)
				return struct{}{}, nil
			}
		}
		return nil, errNotFound("", "", "Customer managed policy %s%s is not attached to permission set %s", ref.Path, ref.Name, ps.Name)
	})
	registerJSON(svcSSOAdmin, "ListCustomerManagedPolicyReferencesInPermissionSet", func(s *Sim, req *struct {
		psIn
		pageIn
	}) (any, error) {
		ps, err := target(s, req.psIn)
		if err != nil {
			return nil, err
		}
		size, err := pageSize(req.MaxResults, 100, 100, "")
		if err != nil {
			return nil, err
		}
		byKey := map[string]customerPolicy{}
		var keys []string
		for _, p := range ps.CustomerPolicies {
			byKey[p.Path+p.Name] = p
			keys = append(keys, p.Path+p.Name)
		}
		sort.Strings(keys)
		page, next, err := pageOf(keys, "ListCustomerManagedPolicyReferencesInPermissionSet", ps.PermissionSetArn, req.NextToken, size)
		if err != nil {
			return nil, err
		}
		out := []customerPolicy{}
		for _, k := range page {
			out = append(out, byKey[k])
		}
		return map[string]any{"CustomerManagedPolicyReferences": out, "NextToken": next}, nil
	})

	registerJSON(svcSSOAdmin, "PutPermissionsBoundaryToPermissionSet", func(s *Sim, req *struct {
		psIn
		PermissionsBoundary *permissionsBoundary
	}) (any, error) {
		ps, err := target(s, req.psIn)
		if err != nil {
			return nil, err
		}
		b := req.PermissionsBoundary
		if b == nil {
			return nil, required("PermissionsBoundary", (*string)(nil))
		}
		if (b.CustomerManagedPolicyReference == nil) == (b.ManagedPolicyArn == "") {
			return nil, errValidation("A permissions boundary is either a CustomerManagedPolicyReference or a ManagedPolicyArn, exactly one of them")
		}
		nb := &permissionsBoundary{ManagedPolicyArn: b.ManagedPolicyArn}
		if b.CustomerManagedPolicyReference != nil {
			ref, err := checkCustomerPolicy("PermissionsBoundary.CustomerManagedPolicyReference", b.CustomerManagedPolicyReference)
			if err != nil {
				return nil, err
			}
			nb.CustomerManagedPolicyReference = &ref
		} else if !managedARNRE.MatchString(b.ManagedPolicyArn) {
			return nil, errValidation("1 validation error detected: Value '%s' at 'permissionsBoundary.managedPolicyArn' failed to satisfy constraint: Member must be an AWS managed policy ARN", b.ManagedPolicyArn)
		}
		ps.Boundary = nb
		s.st.permissionSetChanged(ps.PermissionSetArn)
		return struct{}{}, nil
	})
	registerJSON(svcSSOAdmin, "GetPermissionsBoundaryForPermissionSet", func(s *Sim, req *psIn) (any, error) {
		ps, err := target(s, *req)
		if err != nil {
			return nil, err
		}
		if ps.Boundary == nil {
			return nil, errNotFound("", "", "Permission set %s has no permissions boundary", ps.Name)
		}
		return map[string]any{"PermissionsBoundary": ps.Boundary}, nil
	})
	registerJSON(svcSSOAdmin, "DeletePermissionsBoundaryFromPermissionSet", func(s *Sim, req *psIn) (any, error) {
		ps, err := target(s, *req)
		if err != nil {
			return nil, err
		}
		if ps.Boundary != nil {
			ps.Boundary = nil
			s.st.permissionSetChanged(ps.PermissionSetArn)
		}
		return struct{}{}, nil
	})

	type resourceIn struct{ InstanceArn, ResourceArn *string }
	// tagged reads the instance and the permission set a tagging request names.
	tagged := func(s *Sim, req resourceIn) (*permissionSet, error) {
		if err := s.checkInstance(req.InstanceArn); err != nil {
			return nil, err
		}
		if err := required("ResourceArn", req.ResourceArn); err != nil {
			return nil, err
		}
		if !psARNRE.MatchString(*req.ResourceArn) {
			return nil, errValidation("1 validation error detected: Value '%s' at 'resourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}", *req.ResourceArn)
		}
		ps := s.st.PermissionSets[*req.ResourceArn]
		if ps == nil {
			return nil, errNotFound("", "", "Could not find PermissionSet with PermissionSetArn %s", *req.ResourceArn)
		}
		return ps, nil
	}
	registerJSON(svcSSOAdmin, "TagResource", func(s *Sim, req *struct {
		resourceIn
		Tags []tag
	}) (any, error) {
		ps, err := tagged(s, req.resourceIn)
		if err != nil {
			return nil, err
		}
		if req.Tags == nil {
			return nil, required("Tags", (*string)(nil))
		}
		if err := checkTags(req.Tags); err != nil {
			return nil, err
		}
		merged := mergeTags(ps.Tags, req.Tags)
		if len(merged) > maxTags {
			return nil, &apiError{status: 400, code: "ServiceQuotaExceededException", message: "A permission set holds at most 50 tags"}
		}
		ps.Tags = merged
		return struct{}{}, nil
	})
	registerJSON(svcSSOAdmin, "UntagResource", func(s *Sim, req *struct {
		resourceIn
		TagKeys []string
	}) (any, error) {
		ps, err := tagged(s, req.resourceIn)
		if err != nil {
			return nil, err
		}
		if len(req.TagKeys) < 1 || len(req.TagKeys) > maxTags {
			return nil, errValidation("1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length between 1 and 50")
		}
		drop := map[string]bool{}
		for _, k := range req.TagKeys {
			drop[k] = true
		}
		var kept []tag
		for _, t := range ps.Tags {
			if !drop[t.Key] {
				kept = append(kept, t)
			}
		}
		ps.Tags = kept
		return struct{}{}, nil
	})
	registerJSON(svcSSOAdmin, "ListTagsForResource", func(s *Sim, req *struct {
		resourceIn
		NextToken *string
	}) (any, error) {
		ps, err := tagged(s, req.resourceIn)
		if err != nil {
			return nil, err
		}
		byKey := map[string]tag{}
		var keys []string
		for _, t := range ps.Tags {
			byKey[t.Key] = t
			keys = append(keys, t.Key)
		}
		sort.Strings(keys)
		page, next, err := pageOf(keys, "ListTagsForResource", ps.PermissionSetArn, req.NextToken, maxTags)
		if err != nil {
			return nil, err
		}
		out := []tag{}
		for _, k := range page {
			out = append(out, byKey[k])
		}
		return map[string]any{"Tags": out, "NextToken": next}, nil
	})
}
