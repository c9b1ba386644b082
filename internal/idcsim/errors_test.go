package idcsim_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/wardenhq/warden/internal/idcsim"
)

// An identitystore exception carries the request's id in RequestId, a member of every exception in
// the identitystore model, equal to the answer's X-Amzn-RequestId.
func TestIdentityStoreErrorsCarryRequestId(t *testing.T) {
	e := newTestSim(t, idcsim.Options{Seed: 1})
	for _, c := range []struct{ target, body, code string }{
		{"AWSIdentityStore.DescribeUser", fmt.Sprintf(`{"IdentityStoreId":%q,"UserId":%q}`, e.IdentityStoreID, isUnknownID), "ResourceNotFoundException"},
		{"AWSIdentityStore.ListUsers", fmt.Sprintf(`{"IdentityStoreId":%q,"MaxResults":0}`, e.IdentityStoreID), "ValidationException"},
		{"AWSIdentityStore.CreateGroup", fmt.Sprintf(`{"IdentityStoreId":%q,"DisplayName":"twice"}`, e.IdentityStoreID), ""},
		{"AWSIdentityStore.CreateGroup", fmt.Sprintf(`{"IdentityStoreId":%q,"DisplayName":"twice"}`, e.IdentityStoreID), "ConflictException"},
	} {
		r := e.rawAWSCall(t, c.target, c.body, true)
		if c.code == "" {
			continue
		}
		if r.Body["__type"] != c.code {
			t.Fatalf("%s %s: %d %s, want %s", c.target, c.body, r.Status, r.Raw, c.code)
		}
		if id, _ := r.Body["RequestId"].(string); id == "" || id != r.Header.Get("X-Amzn-Requestid") {
			t.Errorf("%s %s: RequestId %q, X-Amzn-RequestId %q; want the same id in both", c.target, c.code, id, r.Header.Get("X-Amzn-Requestid"))
		}
	}
}

// GetUserId and GetGroupId that find nothing answer ResourceNotFoundException naming the resource
// type, without a ResourceId: there is no resource to name, and the model's ResourceId is at least
// one character long.
func TestLookupNotFoundHasNoEmptyResourceId(t *testing.T) {
	e := newTestSim(t, idcsim.Options{Seed: 1})
	for _, c := range []struct{ target, body, resourceType string }{
		{"AWSIdentityStore.GetUserId", `{"IdentityStoreId":%q,"AlternateIdentifier":{"UniqueAttribute":{"AttributePath":"userName","AttributeValue":"nobody"}}}`, "USER"},
		{"AWSIdentityStore.GetUserId", `{"IdentityStoreId":%q,"AlternateIdentifier":{"UniqueAttribute":{"AttributePath":"emails.value","AttributeValue":"nobody@example.com"}}}`, "USER"},
		{"AWSIdentityStore.GetUserId", `{"IdentityStoreId":%q,"AlternateIdentifier":{"ExternalId":{"Issuer":"idp","Id":"nobody"}}}`, "USER"},
		{"AWSIdentityStore.GetGroupId", `{"IdentityStoreId":%q,"AlternateIdentifier":{"UniqueAttribute":{"AttributePath":"displayName","AttributeValue":"nothing"}}}`, "GROUP"},
	} {
		r := e.rawAWSCall(t, c.target, fmt.Sprintf(c.body, e.IdentityStoreID), true)
		if r.Body["__type"] != "ResourceNotFoundException" || r.Body["ResourceType"] != c.resourceType {
			t.Errorf("%s: %s, want ResourceNotFoundException for a %s", c.target, r.Raw, c.resourceType)
		}
		if id, present := r.Body["ResourceId"]; present && id == "" {
			t.Errorf("%s: an empty ResourceId: %s", c.target, r.Raw)
		}
	}
}

// sso-admin's exceptions have a Message and nothing else in its model: no RetryAfterSeconds on a
// throttle, no Reason on a conflict (those are identitystore's).
func TestSSOAdminErrorsCarryOnlyModelledMembers(t *testing.T) {
	e := newTestSim(t, idcsim.Options{Seed: 1, ThrottleRate: 1})
	r := e.rawAWSCall(t, "SWBExternalService.ListInstances", `{}`, true)
	if r.Body["__type"] != "ThrottlingException" {
		t.Fatalf("ListInstances with every call throttled: %s", r.Raw)
	}
	wantOnly(t, "sso-admin ThrottlingException", r.Body, "__type", "message")

	e = newTestSim(t, idcsim.Options{Seed: 1, ConflictRate: 1})
	created := e.rawAWSCall(t, "SWBExternalService.CreatePermissionSet", fmt.Sprintf(`{"InstanceArn":%q,"Name":"Twice"}`, e.InstanceARN), true)
	arn, _ := created.Body["PermissionSet"].(map[string]any)["PermissionSetArn"].(string)
	update := fmt.Sprintf(`{"InstanceArn":%q,"PermissionSetArn":%q,"Description":"x"}`, e.InstanceARN, arn)
	e.rawAWSCall(t, "SWBExternalService.UpdatePermissionSet", update, true)
	r = e.rawAWSCall(t, "SWBExternalService.UpdatePermissionSet", update, true)
	if r.Status != http.StatusBadRequest || r.Body["__type"] != "ConflictException" {
		t.Fatalf("a second update within the conflict window: %d %s", r.Status, r.Raw)
	}
	wantOnly(t, "sso-admin ConflictException", r.Body, "__type", "message")

	// identitystore's conflict keeps its Reason.
	e.rawAWSCall(t, "AWSIdentityStore.CreateGroup", fmt.Sprintf(`{"IdentityStoreId":%q,"DisplayName":"g"}`, e.IdentityStoreID), true)
	r = e.rawAWSCall(t, "AWSIdentityStore.CreateGroup", fmt.Sprintf(`{"IdentityStoreId":%q,"DisplayName":"g"}`, e.IdentityStoreID), true)
	if r.Body["__type"] != "ConflictException" || r.Body["Reason"] != "UNIQUENESS_CONSTRAINT_VIOLATION" {
		t.Errorf("identitystore duplicate group: %s", r.Raw)
	}
}

func wantOnly(t *testing.T, what string, body map[string]any, members ...string) {
	t.Helper()
	allowed := map[string]bool{}
	for _, m := range members {
		allowed[m] = true
	}
	for k := range body {
		if !allowed[k] {
			t.Errorf("%s carries %s=%v, a member its model does not have", what, k, body[k])
		}
	}
}
