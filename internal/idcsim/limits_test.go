package idcsim

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// Requests of a few megabytes (the simulator reads up to 4 MiB) that had made it allocate hundreds
// of megabytes, or take seconds, found while fuzzing. Each is refused, within 100 MB.
func TestLargeRequestsAreRefusedCheaply(t *testing.T) {
	fs := newBigSim(t)
	patch := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`
	}
	empties := "[" + strings.Repeat("{},", 1<<20+300000) + "{}]"                                                             // 4 MB of {}
	members := "[" + strings.Repeat(`{"value":"$USER"},`, 101) + strings.Repeat(`{"value":"x"},`, 250000) + `{"value":"x"}]` // 250,102 members
	numbers := "[" + strings.Repeat("1,", 2<<20-200) + "1]"                                                                  // 4 MB of numbers
	for _, c := range []struct {
		name, method, path, target, body string
		want                             int
		detail                           string
	}{
		{"24 KB of SCIM email values", "PATCH", "/scim/v2/Users/$USER", "", patch(`[{"op":"add","path":"emails","value":[` + strings.Repeat("{},", 8000) + `{}]}]`), 400, "emails has more than 100 values"},
		{"4 MB of SCIM email values", "POST", "/scim/v2/Users", "", `{"userName":"big","displayName":"B","name":{"givenName":"a","familyName":"b"},"emails":` + empties + `}`, 400, "emails has more than 100 values"},
		{"4 MB of SCIM PATCH operations", "PATCH", "/scim/v2/Users/$USER", "", patch(empties), 400, "At most 1000 operations"},
		{"250,000 members of a new SCIM group", "POST", "/scim/v2/Groups", "", `{"displayName":"big","members":` + members + `}`, 400, "at most 100 members (got 250102)"},
		{"250,000 SCIM membership changes", "PATCH", "/scim/v2/Groups/$GROUP", "", patch(`[{"op":"add","path":"members","value":` + members + `}]`), 400, "At most 100 membership changes"},
		{"4 MB of a group's attribute value", "POST", "/", "AWSIdentityStore.UpdateGroup", `{"IdentityStoreId":"$STORE","GroupId":"$GROUP","Operations":[{"AttributePath":"displayName","AttributeValue":` + numbers + `}]}`, 400, "Member must have length less than or equal to 65536"},
		{"4 MB of a user's emails", "POST", "/", "AWSIdentityStore.UpdateUser", `{"IdentityStoreId":"$STORE","UserId":"$USER","Operations":[{"AttributePath":"emails","AttributeValue":` + empties + `}]}`, 400, "Member must have length less than or equal to 65536"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, fs.vars.Replace(c.path), bytes.NewReader([]byte(fs.vars.Replace(c.body))))
			if c.target != "" {
				req.Header.Set("X-Amz-Target", c.target)
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/identitystore/aws4_request, SignedHeaders=host, Signature=0")
			} else {
				req.Header.Set("Authorization", "Bearer "+fs.token)
			}
			rec := fs.serve(t, req) // fails the test over 100 MB
			if rec.Code != c.want || !strings.Contains(rec.Body.String(), c.detail) {
				t.Errorf("%d %s; want %d saying %q", rec.Code, rec.Body, c.want, c.detail)
			}
		})
	}
}
