package idc

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// Account is an AWS account of the organisation.
type Account struct {
	ID   string
	Name string
}

// PermissionSet is a permission set of the instance.
type PermissionSet struct {
	Name string
	ARN  string
}

// User is an Identity Center user.
type User struct {
	ID          string
	UserName    string
	DisplayName string
	GivenName   string
	FamilyName  string
	Email       string
}

// Group is an Identity Center group.
type Group struct {
	ID          string
	DisplayName string
}

// Assignment is an account assignment.
type Assignment struct {
	PrincipalType    string // USER or GROUP
	PrincipalID      string
	AccountID        string
	PermissionSetARN string
}

// Operation is the state of an asynchronous assignment operation.
type Operation struct {
	RequestID     string
	Status        string // IN_PROGRESS, SUCCEEDED or FAILED
	FailureReason string
}

// Operation statuses.
const (
	InProgress = "IN_PROGRESS"
	Succeeded  = "SUCCEEDED"
	Failed     = "FAILED"
)

// IsNotFound reports whether err is AWS's ResourceNotFoundException.
func IsNotFound(err error) bool {
	var nf *istypes.ResourceNotFoundException
	var snf *ssotypes.ResourceNotFoundException
	var scim *SCIMError
	return errors.As(err, &nf) || errors.As(err, &snf) || (errors.As(err, &scim) && scim.Status == 404)
}

// Accounts lists the organisation's accounts (20 per call, Organizations' limit).
func (c *Client) Accounts(ctx context.Context) ([]Account, error) {
	var out []Account
	p := organizations.NewListAccountsPaginator(c.Org, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Accounts {
			out = append(out, Account{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name)})
		}
	}
	return out, nil
}

// PermissionSets lists the instance's permission sets with their names. A name is described once
// per ARN and remembered (permission set names do not change), so a full sync that finds no new
// permission set spends ceil(P/100) calls, not P more.
func (c *Client) PermissionSets(ctx context.Context) ([]PermissionSet, error) {
	var arns []string
	p := ssoadmin.NewListPermissionSetsPaginator(c.SSO, &ssoadmin.ListPermissionSetsInput{InstanceArn: &c.InstanceARN, MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		arns = append(arns, page.PermissionSets...)
	}
	out := make([]PermissionSet, 0, len(arns))
	for _, arn := range arns {
		c.mu.Lock()
		name, known := c.psNames[arn]
		c.mu.Unlock()
		if !known {
			d, err := c.SSO.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: &c.InstanceARN, PermissionSetArn: aws.String(arn)})
			if err != nil {
				return nil, err
			}
			name = aws.ToString(d.PermissionSet.Name)
			c.mu.Lock()
			c.psNames[arn] = name
			c.mu.Unlock()
		}
		out = append(out, PermissionSet{Name: name, ARN: arn})
	}
	return out, nil
}

func toUser(u istypes.User) User {
	out := User{ID: aws.ToString(u.UserId), UserName: aws.ToString(u.UserName), DisplayName: aws.ToString(u.DisplayName)}
	if u.Name != nil {
		out.GivenName, out.FamilyName = aws.ToString(u.Name.GivenName), aws.ToString(u.Name.FamilyName)
	}
	for _, e := range u.Emails {
		if e.Primary || out.Email == "" {
			out.Email = aws.ToString(e.Value)
		}
	}
	return out
}

// Users lists every user of the identity store (100 per call).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out []User
	p := identitystore.NewListUsersPaginator(c.IDS, &identitystore.ListUsersInput{IdentityStoreId: &c.IdentityStoreID, MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range page.Users {
			out = append(out, toUser(u))
		}
	}
	return out, nil
}

// UserID finds a user by userName; "" when there is none.
func (c *Client) UserID(ctx context.Context, userName string) (string, error) {
	out, err := c.IDS.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: &c.IdentityStoreID,
		AlternateIdentifier: &istypes.AlternateIdentifierMemberUniqueAttribute{Value: istypes.UniqueAttribute{
			AttributePath: aws.String("userName"), AttributeValue: document.NewLazyDocument(userName)}}})
	if IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.UserId), nil
}

// DescribeUser reads one user.
func (c *Client) DescribeUser(ctx context.Context, id string) (User, error) {
	out, err := c.IDS.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: &c.IdentityStoreID, UserId: aws.String(id)})
	if err != nil {
		return User{}, err
	}
	return toUser(istypes.User{UserId: out.UserId, UserName: out.UserName, DisplayName: out.DisplayName, Name: out.Name, Emails: out.Emails}), nil
}

func emails(email string) []istypes.Email {
	if email == "" {
		return nil
	}
	return []istypes.Email{{Value: aws.String(email), Type: aws.String("work"), Primary: true}}
}

// createUser creates a user and returns its id.
func (c *Client) createUser(ctx context.Context, u User) (string, error) {
	out, err := c.IDS.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: &c.IdentityStoreID,
		UserName: aws.String(u.UserName), DisplayName: aws.String(u.DisplayName),
		Name:   &istypes.Name{GivenName: aws.String(u.GivenName), FamilyName: aws.String(u.FamilyName)},
		Emails: emails(u.Email)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.UserId), nil
}

// updateUser sets a user's names and email.
func (c *Client) updateUser(ctx context.Context, id string, u User) error {
	ops := []istypes.AttributeOperation{
		{AttributePath: aws.String("displayName"), AttributeValue: document.NewLazyDocument(u.DisplayName)},
		{AttributePath: aws.String("name.givenName"), AttributeValue: document.NewLazyDocument(u.GivenName)},
		{AttributePath: aws.String("name.familyName"), AttributeValue: document.NewLazyDocument(u.FamilyName)},
	}
	if u.Email != "" {
		ops = append(ops, istypes.AttributeOperation{AttributePath: aws.String("emails"),
			AttributeValue: document.NewLazyDocument([]map[string]any{{"Value": u.Email, "Type": "work", "Primary": true}})})
	}
	_, err := c.IDS.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: &c.IdentityStoreID, UserId: aws.String(id), Operations: ops})
	return err
}

// deleteUser deletes a user; one already gone is not an error.
func (c *Client) deleteUser(ctx context.Context, id string) error {
	_, err := c.IDS.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: &c.IdentityStoreID, UserId: aws.String(id)})
	if IsNotFound(err) {
		return nil
	}
	return err
}

// Groups lists every group (100 per call).
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	var out []Group
	p := identitystore.NewListGroupsPaginator(c.IDS, &identitystore.ListGroupsInput{IdentityStoreId: &c.IdentityStoreID, MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range page.Groups {
			out = append(out, Group{ID: aws.ToString(g.GroupId), DisplayName: aws.ToString(g.DisplayName)})
		}
	}
	return out, nil
}

// GroupID finds a group by display name; "" when there is none.
func (c *Client) GroupID(ctx context.Context, displayName string) (string, error) {
	out, err := c.IDS.GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: &c.IdentityStoreID,
		AlternateIdentifier: &istypes.AlternateIdentifierMemberUniqueAttribute{Value: istypes.UniqueAttribute{
			AttributePath: aws.String("displayName"), AttributeValue: document.NewLazyDocument(displayName)}}})
	if IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.GroupId), nil
}

// createGroup creates a group and returns its id.
func (c *Client) createGroup(ctx context.Context, displayName, description string) (string, error) {
	in := &identitystore.CreateGroupInput{IdentityStoreId: &c.IdentityStoreID, DisplayName: aws.String(displayName)}
	if description != "" {
		in.Description = aws.String(description)
	}
	out, err := c.IDS.CreateGroup(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.GroupId), nil
}

// deleteGroup deletes a group; one already gone is not an error.
func (c *Client) deleteGroup(ctx context.Context, id string) error {
	_, err := c.IDS.DeleteGroup(ctx, &identitystore.DeleteGroupInput{IdentityStoreId: &c.IdentityStoreID, GroupId: aws.String(id)})
	if IsNotFound(err) {
		return nil
	}
	return err
}

// Memberships lists a group's members: user id -> membership id.
func (c *Client) Memberships(ctx context.Context, groupID string) (map[string]string, error) {
	out := map[string]string{}
	p := identitystore.NewListGroupMembershipsPaginator(c.IDS, &identitystore.ListGroupMembershipsInput{IdentityStoreId: &c.IdentityStoreID,
		GroupId: aws.String(groupID), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range page.GroupMemberships {
			if u, ok := m.MemberId.(*istypes.MemberIdMemberUserId); ok {
				out[u.Value] = aws.ToString(m.MembershipId)
			}
		}
	}
	return out, nil
}

// GroupsOfMember lists the ids of every group a user is a member of, in the whole identity store
// (100 per call).
func (c *Client) GroupsOfMember(ctx context.Context, userID string) ([]string, error) {
	var out []string
	p := identitystore.NewListGroupMembershipsForMemberPaginator(c.IDS, &identitystore.ListGroupMembershipsForMemberInput{
		IdentityStoreId: &c.IdentityStoreID, MemberId: &istypes.MemberIdMemberUserId{Value: userID}, MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range page.GroupMemberships {
			out = append(out, aws.ToString(m.GroupId))
		}
	}
	return out, nil
}

// addMember puts a user in a group and returns the membership id; a user already in it is not an
// error (the existing membership's id is returned).
func (c *Client) addMember(ctx context.Context, groupID, userID string) (string, error) {
	out, err := c.IDS.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: &c.IdentityStoreID,
		GroupId: aws.String(groupID), MemberId: &istypes.MemberIdMemberUserId{Value: userID}})
	var conflict *istypes.ConflictException
	if errors.As(err, &conflict) && conflict.Reason == istypes.ConflictExceptionReasonUniquenessConstraintViolation {
		got, gerr := c.IDS.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: &c.IdentityStoreID,
			GroupId: aws.String(groupID), MemberId: &istypes.MemberIdMemberUserId{Value: userID}})
		if gerr != nil {
			return "", gerr
		}
		return aws.ToString(got.MembershipId), nil
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MembershipId), nil
}

// removeMember deletes a membership; one already gone is not an error.
func (c *Client) removeMember(ctx context.Context, membershipID string) error {
	_, err := c.IDS.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: &c.IdentityStoreID, MembershipId: aws.String(membershipID)})
	if IsNotFound(err) {
		return nil
	}
	return err
}

// AssignmentsForPrincipal lists a user's or group's account assignments (100 per call).
func (c *Client) AssignmentsForPrincipal(ctx context.Context, principalType, principalID string) ([]Assignment, error) {
	var out []Assignment
	p := ssoadmin.NewListAccountAssignmentsForPrincipalPaginator(c.SSO, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: &c.InstanceARN, PrincipalId: aws.String(principalID), PrincipalType: ssotypes.PrincipalType(principalType), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.AccountAssignments {
			out = append(out, Assignment{PrincipalType: string(a.PrincipalType), PrincipalID: aws.ToString(a.PrincipalId),
				AccountID: aws.ToString(a.AccountId), PermissionSetARN: aws.ToString(a.PermissionSetArn)})
		}
	}
	return out, nil
}

func toOperation(s *ssotypes.AccountAssignmentOperationStatus) Operation {
	if s == nil {
		return Operation{}
	}
	return Operation{RequestID: aws.ToString(s.RequestId), Status: string(s.Status), FailureReason: aws.ToString(s.FailureReason)}
}

// CreateAssignment starts creating an assignment.
func (c *Client) CreateAssignment(ctx context.Context, a Assignment) (Operation, error) {
	out, err := c.SSO.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: &c.InstanceARN,
		TargetId: aws.String(a.AccountID), TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: aws.String(a.PermissionSetARN),
		PrincipalType: ssotypes.PrincipalType(a.PrincipalType), PrincipalId: aws.String(a.PrincipalID)})
	if err != nil {
		return Operation{}, err
	}
	return toOperation(out.AccountAssignmentCreationStatus), nil
}

// DeleteAssignment starts deleting an assignment.
func (c *Client) DeleteAssignment(ctx context.Context, a Assignment) (Operation, error) {
	out, err := c.SSO.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: &c.InstanceARN,
		TargetId: aws.String(a.AccountID), TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: aws.String(a.PermissionSetARN),
		PrincipalType: ssotypes.PrincipalType(a.PrincipalType), PrincipalId: aws.String(a.PrincipalID)})
	if err != nil {
		return Operation{}, err
	}
	return toOperation(out.AccountAssignmentDeletionStatus), nil
}

// CreationStatus polls an assignment creation.
func (c *Client) CreationStatus(ctx context.Context, requestID string) (Operation, error) {
	out, err := c.SSO.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
		InstanceArn: &c.InstanceARN, AccountAssignmentCreationRequestId: aws.String(requestID)})
	if err != nil {
		return Operation{}, err
	}
	return toOperation(out.AccountAssignmentCreationStatus), nil
}

// DeletionStatus polls an assignment deletion.
func (c *Client) DeletionStatus(ctx context.Context, requestID string) (Operation, error) {
	out, err := c.SSO.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
		InstanceArn: &c.InstanceARN, AccountAssignmentDeletionRequestId: aws.String(requestID)})
	if err != nil {
		return Operation{}, err
	}
	return toOperation(out.AccountAssignmentDeletionStatus), nil
}

// ProvisionedPermissionSets lists the permission sets provisioned to an account (100 per call).
func (c *Client) ProvisionedPermissionSets(ctx context.Context, accountID string) ([]string, error) {
	var out []string
	p := ssoadmin.NewListPermissionSetsProvisionedToAccountPaginator(c.SSO, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{
		InstanceArn: &c.InstanceARN, AccountId: aws.String(accountID), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.PermissionSets...)
	}
	return out, nil
}

// AccountAssignments lists every principal's assignments of one permission set on one account.
func (c *Client) AccountAssignments(ctx context.Context, accountID, permissionSetARN string) ([]Assignment, error) {
	var out []Assignment
	p := ssoadmin.NewListAccountAssignmentsPaginator(c.SSO, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: &c.InstanceARN,
		AccountId: aws.String(accountID), PermissionSetArn: aws.String(permissionSetARN), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.AccountAssignments {
			out = append(out, Assignment{PrincipalType: string(a.PrincipalType), PrincipalID: aws.ToString(a.PrincipalId),
				AccountID: aws.ToString(a.AccountId), PermissionSetARN: aws.ToString(a.PermissionSetArn)})
		}
	}
	return out, nil
}

// renameGroup sets a group's display name.
func (c *Client) renameGroup(ctx context.Context, id, displayName string) error {
	_, err := c.IDS.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: aws.String(c.IdentityStoreID), GroupId: aws.String(id),
		Operations: []istypes.AttributeOperation{{AttributePath: aws.String("displayName"), AttributeValue: document.NewLazyDocument(displayName)}}})
	return err
}
