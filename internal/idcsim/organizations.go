package idcsim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

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

var (
	orgEmailRE     = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	accountNameRE  = regexp.MustCompile(`^[\x20-\x7E]+$`)
	orgRoleNameRE  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	createAcctIDRE = regexp.MustCompile(`^car-[a-z0-9]{8,32}$`)
)

// accountCreation is a CreateAccount request, as snapshots keep it.
type accountCreation struct {
	Id                 string
	AccountName        string
	Email              string
	State              string
	RequestedTimestamp float64
	CompletedTimestamp float64 `json:",omitempty"`
	AccountId          string  `json:",omitempty"`
	FailureReason      string  `json:",omitempty"`
	CompleteAt         time.Time
}

// createAccountStatus is the model's CreateAccountStatus.
type createAccountStatus struct {
	Id                 string
	AccountName        string
	State              string
	RequestedTimestamp float64
	CompletedTimestamp float64 `json:",omitempty"`
	AccountId          string  `json:",omitempty"`
	FailureReason      string  `json:",omitempty"`
}

func (c *accountCreation) status() createAccountStatus {
	return createAccountStatus{c.Id, c.AccountName, c.State, c.RequestedTimestamp, c.CompletedTimestamp, c.AccountId, c.FailureReason}
}

// checkString applies a string member's constraints as Organizations reports them.
func checkString(field string, v *string, min, max int, re *regexp.Regexp) error {
	switch {
	case v == nil || *v == "":
		if min == 0 {
			return nil
		}
		return orgInvalid("INPUT_REQUIRED", "You must specify a value for %s", field)
	case len(*v) < min:
		return orgInvalid("MIN_LENGTH_EXCEEDED", "%s must be at least %d characters long", field, min)
	case len(*v) > max:
		return orgInvalid("MAX_LENGTH_EXCEEDED", "%s must be at most %d characters long", field, max)
	case !re.MatchString(*v):
		return orgInvalid("INVALID_PATTERN", "You provided a value that does not match the required pattern for %s", field)
	}
	return nil
}

// completeAccountCreation makes the account (a member under the root, joined by creation), unless
// an account already has the email address.
func (s *Sim) completeAccountCreation(c *accountCreation) {
	st := s.st
	c.CompletedTimestamp = epoch(s.now())
	for _, a := range st.Accounts {
		if strings.EqualFold(a.Email, c.Email) {
			c.State, c.FailureReason = "FAILED", "EMAIL_ALREADY_EXISTS"
			return
		}
	}
	id := st.digits(12)
	for st.Accounts[id] != nil || id[0] == '0' {
		id = st.digits(12)
	}
	if err := s.dir().AddAccount(id, c.AccountName, c.Email); err != nil {
		c.State, c.FailureReason = "FAILED", "INTERNAL_FAILURE"
		return
	}
	c.State, c.AccountId = "SUCCEEDED", id
}

func init() {
	register(svcOrganizations, "CreateOrganization", func(s *Sim, in []byte) (any, error) {
		return nil, &apiError{status: 400, code: "AlreadyInOrganizationException",
			message: fmt.Sprintf("The AWS account is already a member of an organization (%s).", s.st.Organization.Id)}
	})
	registerJSON(svcOrganizations, "CreateAccount", func(s *Sim, req *struct {
		Email, AccountName, RoleName, IamUserAccessToBilling *string
		Tags                                                 []struct{ Key, Value *string }
	}) (any, error) {
		if err := checkString("Email", req.Email, 6, 64, orgEmailRE); err != nil {
			return nil, err
		}
		if err := checkString("AccountName", req.AccountName, 1, 50, accountNameRE); err != nil {
			return nil, err
		}
		if err := checkString("RoleName", req.RoleName, 0, 64, orgRoleNameRE); err != nil {
			return nil, err
		}
		if v := req.IamUserAccessToBilling; v != nil && *v != "ALLOW" && *v != "DENY" {
			return nil, orgInvalid("INVALID_ENUM", "IamUserAccessToBilling must be ALLOW or DENY")
		}
		now := s.now()
		id := "car-" + s.st.lowerAlnum(32)
		for s.st.AccountCreations[id] != nil {
			id = "car-" + s.st.lowerAlnum(32)
		}
		c := &accountCreation{Id: id, AccountName: *req.AccountName, Email: *req.Email, State: "IN_PROGRESS",
			RequestedTimestamp: epoch(now), CompleteAt: now.Add(s.opts.ProvisioningDelay)}
		s.st.AccountCreations[id] = c
		s.st.pending = append(s.st.pending, id)
		return map[string]any{"CreateAccountStatus": c.status()}, nil
	})
	registerJSON(svcOrganizations, "DescribeCreateAccountStatus", func(s *Sim, req *struct{ CreateAccountRequestId *string }) (any, error) {
		if err := checkString("CreateAccountRequestId", req.CreateAccountRequestId, 1, 36, createAcctIDRE); err != nil {
			return nil, err
		}
		c := s.st.AccountCreations[*req.CreateAccountRequestId]
		if c == nil {
			return nil, &apiError{status: 400, code: "CreateAccountStatusNotFoundException", message: "We can't find an create account request with the CreateAccountRequestId that you specified."}
		}
		return map[string]any{"CreateAccountStatus": c.status()}, nil
	})
	registerJSON(svcOrganizations, "ListCreateAccountStatus", func(s *Sim, req *struct {
		States []string
		pageIn
	}) (any, error) {
		size, err := orgPageSize(req.MaxResults)
		if err != nil {
			return nil, err
		}
		want := map[string]bool{}
		for _, st := range req.States {
			if st != "IN_PROGRESS" && st != "SUCCEEDED" && st != "FAILED" {
				return nil, orgInvalid("INVALID_ENUM", "States must be IN_PROGRESS, SUCCEEDED or FAILED")
			}
			want[st] = true
		}
		// Oldest first, by request time then id.
		byKey := map[string]*accountCreation{}
		for _, c := range s.st.AccountCreations {
			if len(want) == 0 || want[c.State] {
				byKey[fmt.Sprintf("%020.6f|%s", c.RequestedTimestamp, c.Id)] = c
			}
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		states := append([]string(nil), req.States...)
		sort.Strings(states)
		page, next, err := pageOf(keys, "ListCreateAccountStatus", strings.Join(states, ","), req.NextToken, size)
		if err != nil {
			return nil, orgInvalid("INVALID_NEXT_TOKEN", "The NextToken is not valid for this request")
		}
		out := []createAccountStatus{}
		for _, k := range page {
			out = append(out, byKey[k].status())
		}
		return map[string]any{"CreateAccountStatuses": out, "NextToken": next}, nil
	})
}
