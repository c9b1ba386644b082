package idcsim

func orgInvalid(format string, args ...any) *apiError {
	e := errValidation(format, args...)
	e.code = "InvalidInputException"
	return e
}

func init() {
	register(svcOrganizations, "DescribeOrganization", func(s *Sim, in []byte) (any, error) {
		return map[string]any{"Organization": s.st.Organization}, nil
	})
	register(svcOrganizations, "ListRoots", func(s *Sim, in []byte) (any, error) {
		var req pageIn
		if err := decode(in, &req); err != nil {
			return nil, err
		}
		if _, err := pageSize(req.MaxResults, 20, 20, "InvalidInputException"); err != nil {
			return nil, err
		}
		return map[string]any{"Roots": []root{s.st.Root}}, nil
	})
	listAccounts := func(s *Sim, op, parent string, req pageIn) (any, error) {
		size, err := pageSize(req.MaxResults, 20, 20, "InvalidInputException")
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
			e := err.(*apiError)
			e.code = "InvalidInputException"
			return nil, e
		}
		out := []*account{}
		for _, k := range page {
			out = append(out, s.st.Accounts[k])
		}
		return map[string]any{"Accounts": out, "NextToken": next}, nil
	}
	register(svcOrganizations, "ListAccounts", func(s *Sim, in []byte) (any, error) {
		var req pageIn
		if err := decode(in, &req); err != nil {
			return nil, err
		}
		return listAccounts(s, "ListAccounts", "", req)
	})
	register(svcOrganizations, "ListAccountsForParent", func(s *Sim, in []byte) (any, error) {
		var req struct {
			ParentId *string
			pageIn
		}
		if err := decode(in, &req); err != nil {
			return nil, err
		}
		if err := required("ParentId", req.ParentId); err != nil {
			e := err.(*apiError)
			e.code = "InvalidInputException"
			return nil, e
		}
		if *req.ParentId != s.st.Root.Id {
			return nil, &apiError{status: 400, code: "ParentNotFoundException", message: "We can't find a root or OU with the ParentId that you specified."}
		}
		return listAccounts(s, "ListAccountsForParent", *req.ParentId, req.pageIn)
	})
	register(svcOrganizations, "DescribeAccount", func(s *Sim, in []byte) (any, error) {
		var req struct{ AccountId *string }
		if err := decode(in, &req); err != nil {
			return nil, err
		}
		if req.AccountId == nil || !accountIDRE.MatchString(*req.AccountId) {
			return nil, orgInvalid("You provided a value that does not match the required pattern: AccountId must be 12 digits")
		}
		a := s.st.Accounts[*req.AccountId]
		if a == nil {
			return nil, &apiError{status: 400, code: "AccountNotFoundException", message: "You specified an account that doesn't exist."}
		}
		return map[string]any{"Account": a}, nil
	})
}
