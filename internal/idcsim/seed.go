package idcsim

import (
	"fmt"
	"math/rand"
	"strings"
)

// SeedDemo loads the demo organisation: five accounts (six with the management account every
// simulator has), five permission sets, four groups and a dozen people, with group and user
// assignments. Staging (058264527036) and Production (637423191929) match the AWS CLI guide's
// examples.
func SeedDemo(d *Directory) error {
	accounts := []struct{ id, name string }{
		{"637423191929", "Production"}, {"058264527036", "Staging"}, {"293847561029", "Development"},
		{"410928374651", "Security"}, {"582910374628", "Shared Services"},
	}
	acct := map[string]string{}
	for _, a := range accounts {
		email := "aws-" + strings.ToLower(strings.ReplaceAll(a.name, " ", "-")) + "@example.com"
		if err := d.AddAccount(a.id, a.name, email); err != nil {
			return err
		}
		acct[a.name] = a.id
	}
	sets := []struct{ name, description, duration, policy string }{
		{"AdministratorAccess", "Full access", "PT1H", "AdministratorAccess"},
		{"ReadOnlyAccess", "Read everything", "PT8H", "ReadOnlyAccess"},
		{"PowerUserAccess", "Everything but IAM", "PT4H", "PowerUserAccess"},
		{"SecurityAudit", "Read security configuration", "PT8H", "SecurityAudit"},
		{"Billing", "Billing and cost management", "PT8H", "job-function/Billing"},
	}
	ps := map[string]string{}
	for _, s := range sets {
		arn, err := d.CreatePermissionSet(s.name, s.description, s.duration, "arn:aws:iam::aws:policy/"+s.policy)
		if err != nil {
			return err
		}
		ps[s.name] = arn
	}
	people := []struct{ given, family string }{
		{"Alice", "Nguyen"}, {"Bob", "Okafor"}, {"Carol", "Jensen"}, {"Dan", "Silva"}, {"Erin", "Walsh"},
		{"Farid", "Haddad"}, {"Grace", "Kim"}, {"Hiro", "Tanaka"}, {"Ines", "Moreau"}, {"Jon", "Berg"},
		{"Kemi", "Adeyemi"}, {"Lena", "Fischer"},
	}
	users := map[string]string{}
	for _, p := range people {
		login := strings.ToLower(p.given) + "@example.com"
		id, err := d.CreateUser(login, p.given, p.family, login)
		if err != nil {
			return err
		}
		users[strings.ToLower(p.given)] = id
	}
	groups := []struct {
		name, description string
		members           []string
	}{
		{"DevOps", "Platform and operations engineers", []string{"alice", "bob", "carol"}},
		{"Developers", "Product engineers", []string{"dan", "erin", "farid", "grace", "hiro"}},
		{"BillingAdmin", "Finance team", []string{"ines", "jon"}},
		{"Everyone", "Every employee", []string{"alice", "bob", "carol", "dan", "erin", "farid", "grace", "hiro", "ines", "jon", "kemi", "lena"}},
	}
	group := map[string]string{}
	for _, g := range groups {
		id, err := d.CreateGroup(g.name, g.description)
		if err != nil {
			return err
		}
		group[g.name] = id
		for _, m := range g.members {
			if _, err := d.AddMember(id, users[m]); err != nil {
				return err
			}
		}
	}
	assign := func(ptype, pid, account, set string) error {
		return d.Assign(Assignment{AccountID: acct[account], PermissionSetARN: ps[set], PrincipalType: ptype, PrincipalID: pid})
	}
	for _, a := range []struct{ group, account, set string }{
		{"DevOps", "Staging", "AdministratorAccess"}, {"DevOps", "Development", "PowerUserAccess"},
		{"DevOps", "Production", "ReadOnlyAccess"}, {"DevOps", "Staging", "ReadOnlyAccess"},
		{"Developers", "Development", "PowerUserAccess"}, {"Developers", "Staging", "ReadOnlyAccess"},
		{"BillingAdmin", "Shared Services", "Billing"}, {"Everyone", "Security", "SecurityAudit"},
	} {
		if err := assign("GROUP", group[a.group], a.account, a.set); err != nil {
			return err
		}
	}
	// User-level assignments: a break-glass administrator and an auditor.
	if err := assign("USER", users["kemi"], "Production", "AdministratorAccess"); err != nil {
		return err
	}
	return assign("USER", users["lena"], "Production", "ReadOnlyAccess")
}

// Scale describes a generated organisation.
type Scale struct {
	Seed             int64
	Users            int
	Groups           int
	MembersPerGroup  int
	Accounts         int
	PermissionSets   int
	GroupAssignments int
	UserAssignments  int
}

// Generate loads a generated organisation, the same for the same Scale (and simulator Seed).
func Generate(d *Directory, sc Scale) error {
	rng := rand.New(rand.NewSource(sc.Seed))
	accounts := make([]string, sc.Accounts)
	used := map[string]bool{}
	for i := range accounts {
		for {
			id := fmt.Sprintf("%012d", rng.Int63n(1e12))
			if !used[id] && d.s.st.Accounts[id] == nil {
				used[id] = true
				accounts[i] = id
				break
			}
		}
		if err := d.AddAccount(accounts[i], fmt.Sprintf("account-%04d", i), fmt.Sprintf("aws-%04d@example.com", i)); err != nil {
			return err
		}
	}
	sets := make([]string, sc.PermissionSets)
	for i := range sets {
		arn, err := d.CreatePermissionSet(fmt.Sprintf("PermissionSet%03d", i), "generated", "PT4H", "arn:aws:iam::aws:policy/ReadOnlyAccess")
		if err != nil {
			return err
		}
		sets[i] = arn
	}
	users := make([]string, sc.Users)
	for i := range users {
		id, err := d.CreateUser(fmt.Sprintf("user%06d@example.com", i), "User", fmt.Sprintf("%06d", i), fmt.Sprintf("user%06d@example.com", i))
		if err != nil {
			return err
		}
		users[i] = id
	}
	groups := make([]string, sc.Groups)
	for i := range groups {
		id, err := d.CreateGroup(fmt.Sprintf("group-%04d", i), "generated")
		if err != nil {
			return err
		}
		groups[i] = id
		for _, j := range rng.Perm(len(users))[:min(sc.MembersPerGroup, len(users))] {
			if _, err := d.AddMember(id, users[j]); err != nil {
				return err
			}
		}
	}
	pick := func(principals []string, ptype string, n int) error {
		if len(principals) == 0 || len(accounts) == 0 || len(sets) == 0 {
			return nil
		}
		n = min(n, len(principals)*len(accounts)*len(sets))
		for made := 0; made < n; {
			a := Assignment{AccountID: accounts[rng.Intn(len(accounts))], PermissionSetARN: sets[rng.Intn(len(sets))],
				PrincipalType: ptype, PrincipalID: principals[rng.Intn(len(principals))]}
			key := assignment{a.AccountID, a.PermissionSetARN, a.PrincipalType, a.PrincipalID}.key()
			if d.s.st.Assignments[key] != nil {
				continue
			}
			if err := d.Assign(a); err != nil {
				return err
			}
			made++
		}
		return nil
	}
	if err := pick(groups, "GROUP", sc.GroupAssignments); err != nil {
		return err
	}
	return pick(users, "USER", sc.UserAssignments)
}
