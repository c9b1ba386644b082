package idcsim

import "regexp"

// orgInvalid is Organizations' InvalidInputException, which names a Reason.
func orgInvalid(reason, format string, args ...any) *apiError {
	e := errValidation(format, args...)
	e.code = "InvalidInputException"
	e.extra = map[string]any{"Reason": reason}
	return e
}

// orgPageSize checks MaxResults as Organizations does (1-20), with its reasons.
func orgPageSize(max *int) (int, error) {
	switch {
	case max == nil:
		return 20, nil
	case *max < 1:
		return 0, orgInvalid("MIN_VALUE_EXCEEDED", "You provided a value that is below the minimum: MaxResults must be at least 1")
	case *max > 20:
		return 0, orgInvalid("MAX_VALUE_EXCEEDED", "You provided a value that exceeds the maximum: MaxResults must be at most 20")
	}
	return *max, nil
}

var parentIDRE = regexp.MustCompile(`^(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)

func init() {
	register(svcOrganizations, "DescribeOrganization", func(s *Sim, in []byte) (any, error) {
		return map[string]any{"Organization": s.st.Organization}, nil
	})
	registerJSON(svcOrganizations, "ListRoots", func(s *Sim, req *pageIn) (any, error) {
		if _, err := orgPageSize(req.MaxResults); err != nil {
			return nil, err
		}
		return map[string]any{"Roots": []root{s.st.Root}}, nil
	})
	listAccounts := func(s *Sim, op, parent string, req pageIn) (any, error) {
		size, err := orgPageSize(req.MaxResults)
		if err != nil {
			return nil, err
		}
		keys := sortedKeys(s.st, "accounts", s.st.Accounts)
		if parent != "" {
			var under []string
			for _, k := range keys {
				if s.st.Accounts[k].ParentId == parent {
					under = append(under, k)
				}
			}
			keys = under
		}
		page, next, err := pageOf(keys, op, parent, req.NextToken, size)
		if err != nil {
			return nil, orgInvalid("INVALID_NEXT_TOKEN", "The NextToken is not valid for this request")
		}
		out := []*account{}
		for _, k := range page {
			out = append(out, s.st.Accounts[k])
		}
		return map[string]any{"Accounts": out, "NextToken": next}, nil
	}
	registerJSON(svcOrganizations, "ListAccounts", func(s *Sim, req *pageIn) (any, error) {
		return listAccounts(s, "ListAccounts", "", *req)
	})
	registerJSON(svcOrganizations, "ListAccountsForParent", func(s *Sim, req *struct {
		ParentId *string
		pageIn
	}) (any, error) {
		if req.ParentId == nil || !parentIDRE.MatchString(*req.ParentId) {
			return nil, orgInvalid("INVALID_PATTERN", "You provided a value that does not match the required pattern: ParentId must be a root (r-...) or OU (ou-...) id")
		}
		if *req.ParentId != s.st.Root.Id {
			return nil, &apiError{status: 400, code: "ParentNotFoundException", message: "We can't find a root or OU with the ParentId that you specified."}
		}
		return listAccounts(s, "ListAccountsForParent", *req.ParentId, req.pageIn)
	})
	registerJSON(svcOrganizations, "DescribeAccount", func(s *Sim, req *struct{ AccountId *string }) (any, error) {
		if req.AccountId == nil || !accountIDRE.MatchString(*req.AccountId) {
			return nil, orgInvalid("INVALID_PATTERN", "You provided a value that does not match the required pattern: AccountId must be 12 digits")
		}
		a := s.st.Accounts[*req.AccountId]
		if a == nil {
			return nil, &apiError{status: 400, code: "AccountNotFoundException", message: "You specified an account that doesn't exist."}
		}
		return map[string]any{"Account": a}, nil
	})
}
