package idc

import (
	"context"
	"fmt"
)

// Directory writes Identity Center's users, groups and memberships. Two drivers implement it: the
// identitystore API (the default, for Identity Center's own directory) and SCIM (when an external
// identity provider, warden, is Identity Center's identity source, as AWS expects then). Reads go
// through the identitystore API in both modes: it works on SCIM-provisioned data, and SCIM group
// reads carry no members.
type Directory interface {
	// Kind names the driver: "identitystore" or "scim".
	Kind() string
	// CreateUser creates a user and returns its id. One that exists answers a ConflictException.
	// externalID marks it as warden's (SCIM; the identitystore driver does not set it).
	CreateUser(ctx context.Context, u User, externalID string) (string, error)
	// UpdateUser sets a user's names and email.
	UpdateUser(ctx context.Context, id string, u User) error
	// DeleteUser deletes a user; one already gone is not an error.
	DeleteUser(ctx context.Context, id string) error
	// CreateGroup creates a group and returns its id; one of that name answers a ConflictException.
	CreateGroup(ctx context.Context, displayName, description, externalID string) (string, error)
	// RenameGroup sets a group's display name.
	RenameGroup(ctx context.Context, id, displayName string) error
	// DeleteGroup deletes a group; one already gone is not an error.
	DeleteGroup(ctx context.Context, id string) error
	// AddMembers puts users in a group (at most MembersPerCall at once) and returns the membership
	// ids in order; a driver that does not learn them answers MembershipUnknown for each.
	AddMembers(ctx context.Context, groupID string, userIDs []string) ([]string, error)
	// RemoveMembers takes memberships out of a group (at most MembersPerCall at once); one already
	// gone is not an error.
	RemoveMembers(ctx context.Context, groupID string, members []Membership) error
	// MembersPerCall is how many membership changes one call makes.
	MembersPerCall() int
}

// Membership is a user's membership of a group: the user's id, and the membership's id where known.
type Membership struct {
	UserID string
	ID     string
}

// MembershipUnknown stands for the id of a membership made through SCIM, which answers none: the
// membership exists, and the next observation (identitystore) learns its id.
const MembershipUnknown = "(membership made over SCIM)"

// Directory modes (identity_center.directory).
const (
	DirectoryIdentityStore = "identitystore"
	DirectorySCIM          = "scim"
)

// Dir is the client's directory driver (identitystore unless UseSCIM was called).
func (c *Client) Dir() Directory {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir == nil {
		return identityStoreDirectory{c}
	}
	return c.dir
}

// identityStoreDirectory writes through the identitystore API.
type identityStoreDirectory struct{ c *Client }

func (d identityStoreDirectory) Kind() string { return DirectoryIdentityStore }

func (d identityStoreDirectory) CreateUser(ctx context.Context, u User, _ string) (string, error) {
	return d.c.createUser(ctx, u)
}

func (d identityStoreDirectory) UpdateUser(ctx context.Context, id string, u User) error {
	return d.c.updateUser(ctx, id, u)
}

func (d identityStoreDirectory) DeleteUser(ctx context.Context, id string) error {
	return d.c.deleteUser(ctx, id)
}

func (d identityStoreDirectory) CreateGroup(ctx context.Context, displayName, description, _ string) (string, error) {
	return d.c.createGroup(ctx, displayName, description)
}

func (d identityStoreDirectory) RenameGroup(ctx context.Context, id, displayName string) error {
	return d.c.renameGroup(ctx, id, displayName)
}

func (d identityStoreDirectory) DeleteGroup(ctx context.Context, id string) error {
	return d.c.deleteGroup(ctx, id)
}

func (d identityStoreDirectory) AddMembers(ctx context.Context, groupID string, userIDs []string) ([]string, error) {
	if len(userIDs) != 1 {
		return nil, fmt.Errorf("identitystore adds one membership per call, not %d", len(userIDs))
	}
	mid, err := d.c.addMember(ctx, groupID, userIDs[0])
	if err != nil {
		return nil, err
	}
	return []string{mid}, nil
}

func (d identityStoreDirectory) RemoveMembers(ctx context.Context, _ string, members []Membership) error {
	if len(members) != 1 {
		return fmt.Errorf("identitystore removes one membership per call, not %d", len(members))
	}
	if members[0].ID == "" || members[0].ID == MembershipUnknown {
		return fmt.Errorf("the membership's id is not known yet (observed at the next sync)")
	}
	return d.c.removeMember(ctx, members[0].ID)
}

func (d identityStoreDirectory) MembersPerCall() int { return 1 }
