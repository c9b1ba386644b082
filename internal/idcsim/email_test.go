package idcsim_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

func isUserWithEmail(storeID, userName, email string) *identitystore.CreateUserInput {
	in := isUserInput(storeID, userName)
	in.Emails = []istypes.Email{{Value: aws.String(email), Type: aws.String("work"), Primary: true}}
	return in
}

// A user's email address is unique in the identity store, as AWS documents ("If you are
// provisioning a primary email address, this attribute value must be unique for each user"; GetUserId
// takes emails.value as a unique attribute): a second user with it, made or changed through the
// identitystore API or SCIM, is refused as a uniqueness conflict. Addresses compare
// case-insensitively. An email is not required: the model makes Emails optional.
func TestEmailAddressesAreUnique(t *testing.T) {
	e := newTestSim(t, idcsim.Options{Seed: 1})
	ctx := testContext(t)
	store := e.IdentityStoreID
	first, err := e.IdentityStore.CreateUser(ctx, isUserWithEmail(store, "first", "shared@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.IdentityStore.CreateUser(ctx, isUserWithEmail(store, "second", "Shared@Example.com"))
	ce := requireErrorAs[*istypes.ConflictException](t, err)
	if ce.Reason != istypes.ConflictExceptionReasonUniquenessConstraintViolation {
		t.Errorf("CreateUser with another user's email: Reason %q, want UNIQUENESS_CONSTRAINT_VIOLATION", ce.Reason)
	}

	// Without an email, and with one of its own, a user is made.
	noEmail := isCreateUser(t, e, "no-email")
	second, err := e.IdentityStore.CreateUser(ctx, isUserWithEmail(store, "second", "second@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	// UpdateUser cannot take another user's address, neither on a user without one.
	for _, id := range []string{aws.ToString(second.UserId), noEmail} {
		_, err = e.IdentityStore.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: aws.String(store), UserId: aws.String(id),
			Operations: []istypes.AttributeOperation{{AttributePath: aws.String("emails"),
				AttributeValue: document.NewLazyDocument([]map[string]any{{"Value": "SHARED@example.com", "Primary": true}})}}})
		requireErrorAs[*istypes.ConflictException](t, err)
	}
	// A user may be updated keeping its own address; GetUserId by email finds it.
	if _, err := e.IdentityStore.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: aws.String(store), UserId: first.UserId,
		Operations: []istypes.AttributeOperation{{AttributePath: aws.String("displayName"), AttributeValue: document.NewLazyDocument("First")}}}); err != nil {
		t.Fatalf("updating a user that keeps its address: %v", err)
	}
	got, err := e.IdentityStore.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: aws.String(store),
		AlternateIdentifier: &istypes.AlternateIdentifierMemberUniqueAttribute{Value: istypes.UniqueAttribute{AttributePath: aws.String("emails.value"), AttributeValue: document.NewLazyDocument("shared@example.com")}}})
	if err != nil || aws.ToString(got.UserId) != aws.ToString(first.UserId) {
		t.Fatalf("GetUserId by email: %v %v", got, err)
	}

	// SCIM keeps the same rule, and answers 409 uniqueness.
	s := &scimEnv{t: t, sim: e.Sim, srv: e.Server, token: e.Sim.SCIMToken(), ids: e.IdentityStore, storeID: store}
	body := scimUserBody("third")
	body["emails"] = []any{map[string]any{"value": "shared@EXAMPLE.com", "type": "work", "primary": true}}
	s.wantError(s.do("POST", "/Users", body), http.StatusConflict, "uniqueness")
	third := s.createUser("third", nil)
	s.wantError(s.do("PATCH", "/Users/"+third, patchOp(map[string]any{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "second@example.com"})),
		http.StatusConflict, "uniqueness")

	// Once its user is deleted, an address is free again.
	if _, err := e.IdentityStore.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: aws.String(store), UserId: first.UserId}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.IdentityStore.CreateUser(ctx, isUserWithEmail(store, "fourth", "shared@example.com")); err != nil {
		t.Errorf("reusing the address of a deleted user: %v", err)
	}
}
