package idcsim_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"

	"github.com/wardenhq/warden/internal/idcsim"
)

// A panic while a request is handled (a simulator bug; here the clock it reads under its lock
// breaks) answers 500 over the AWS protocol and over SCIM, naming the panic, is counted, and leaves
// the simulator serving: its lock was let go.
func TestPanicAnswers500AndTheSimulatorGoesOn(t *testing.T) {
	var broken atomic.Bool
	e := newSCIMEnv(t, idcsim.Options{Seed: 1, Now: func() time.Time {
		if broken.Load() {
			panic("the clock broke")
		}
		return time.Now()
	}})
	api := newTestSimFrom(t, e.sim)

	broken.Store(true)
	r := api.rawAWSCall(t, "AWSIdentityStore.ListUsers", `{"IdentityStoreId": "`+e.storeID+`"}`, true)
	if msg, _ := r.Body["message"].(string); r.Status != http.StatusInternalServerError || r.Body["__type"] != "InternalServerException" ||
		!strings.Contains(msg, "the clock broke") {
		t.Errorf("ListUsers while the clock panics: %d %s; want 500 InternalServerException naming the panic", r.Status, r.Raw)
	}
	e.wantError(e.do("GET", "/Users", nil), http.StatusInternalServerError, "", "the clock broke")
	broken.Store(false)

	if n := e.sim.Stats().Panics; n != 2 {
		t.Errorf("Stats().Panics = %d, want 2", n)
	}
	if _, err := e.ids.ListUsers(testContext(t), &identitystore.ListUsersInput{IdentityStoreId: aws.String(e.storeID)}); err != nil {
		t.Errorf("ListUsers after the panics: %v", err)
	}
	e.want(e.do("GET", "/Users", nil), http.StatusOK)
}
