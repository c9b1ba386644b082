package idcsim_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"

	"github.com/wardenhq/warden/internal/idcsim"
)

// A user made through identitystore CreateUser with a phone number or an address holding an empty
// key (a member AWS's model does not have) is one a SCIM PATCH can change: the simulator used to
// panic on it (slice bounds out of range in scimFinishUser), answering nothing.
func TestSCIMPatchOfIdentityStoreUserWithOddContacts(t *testing.T) {
	e := newSCIMEnv(t, idcsim.Options{Seed: 1})
	api := newTestSimFrom(t, e.sim)
	for i, contact := range []string{
		`"PhoneNumbers": [{"": "x", "Value": "+1 555 0100", "Type": "work"}]`,
		`"Addresses": [{"": "y", "Locality": "Oxford", "Country": "GB"}]`,
		`"PhoneNumbers": [{"": ""}], "Addresses": [{"": ""}]`,
	} {
		userName := fmt.Sprintf("odd.%d", i)
		r := api.rawAWSCall(t, "AWSIdentityStore.CreateUser", `{"IdentityStoreId": "`+e.storeID+`", "UserName": "`+userName+`",
			"DisplayName": "Odd User", "Name": {"GivenName": "Odd", "FamilyName": "User"}, `+contact+`}`, true)
		if r.Status != http.StatusOK {
			t.Fatalf("CreateUser with %s: %d %s", contact, r.Status, r.Raw)
		}
		id, _ := r.Body["UserId"].(string)
		p := e.want(e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "title", "value": "Patched"})), http.StatusOK)
		if p.str("title") != "Patched" {
			t.Errorf("%s: PATCH answered %s", contact, p.raw)
		}
		switch i {
		case 0:
			if phones, _ := p.body["phoneNumbers"].([]any); len(phones) != 1 || phones[0].(map[string]any)["value"] != "+1 555 0100" ||
				phones[0].(map[string]any)["type"] != "work" || len(phones[0].(map[string]any)) != 3 {
				t.Errorf("phoneNumbers after the PATCH: %v", p.body["phoneNumbers"])
			}
		case 1:
			if addrs, _ := p.body["addresses"].([]any); len(addrs) != 1 || addrs[0].(map[string]any)["locality"] != "Oxford" ||
				addrs[0].(map[string]any)["country"] != "GB" || len(addrs[0].(map[string]any)) != 3 {
				t.Errorf("addresses after the PATCH: %v", p.body["addresses"])
			}
		}
	}
	if n := e.sim.Stats().Panics; n != 0 {
		t.Errorf("the simulator panicked %d times", n)
	}
}

// What AWS documents of a user's phone numbers and addresses (Identity Store API reference,
// CreateUser, PhoneNumber, Address): one of each at most, and their string members 1 to 1024
// characters. Through the SDK.
func TestIdentityStoreContactConstraints(t *testing.T) {
	e := newTestSim(t, idcsim.Options{Seed: 1}, withRetryMaxAttempts(1))
	ctx := testContext(t)
	for name, set := range map[string]func(*identitystore.CreateUserInput){
		"an empty phone number value": func(in *identitystore.CreateUserInput) {
			in.PhoneNumbers = []istypes.PhoneNumber{{Value: aws.String(""), Type: aws.String("work")}}
		},
		"an empty address locality": func(in *identitystore.CreateUserInput) {
			in.Addresses = []istypes.Address{{Locality: aws.String(""), Country: aws.String("GB")}}
		},
		"a phone number type of 1025 characters": func(in *identitystore.CreateUserInput) {
			in.PhoneNumbers = []istypes.PhoneNumber{{Value: aws.String("1"), Type: aws.String(fmt.Sprintf("%01025d", 0))}}
		},
		"two phone numbers": func(in *identitystore.CreateUserInput) {
			in.PhoneNumbers = []istypes.PhoneNumber{{Value: aws.String("1")}, {Value: aws.String("2")}}
		},
		"two addresses": func(in *identitystore.CreateUserInput) {
			in.Addresses = []istypes.Address{{Locality: aws.String("Oxford")}, {Locality: aws.String("Leeds")}}
		},
	} {
		in := isUserInput(e.IdentityStoreID, "bad.contact")
		set(in)
		if _, err := e.IdentityStore.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: aws.String(e.IdentityStoreID),
			AlternateIdentifier: &istypes.AlternateIdentifierMemberUniqueAttribute{Value: istypes.UniqueAttribute{
				AttributePath: aws.String("userName"), AttributeValue: document.NewLazyDocument("bad.contact")}}}); err == nil {
			t.Fatalf("before CreateUser with %s: a user bad.contact exists", name)
		}
		var ve *istypes.ValidationException
		if _, err := e.IdentityStore.CreateUser(ctx, in); !errors.As(err, &ve) {
			t.Errorf("CreateUser with %s: %v, want a ValidationException", name, err)
		}
	}

	in := isUserInput(e.IdentityStoreID, "good.contact")
	in.PhoneNumbers = []istypes.PhoneNumber{{Value: aws.String("+44 1865 000000"), Type: aws.String("work"), Primary: true}}
	in.Addresses = []istypes.Address{{StreetAddress: aws.String("1 Broad St"), Locality: aws.String("Oxford"), Region: aws.String("Oxon"),
		PostalCode: aws.String("OX1 3AA"), Country: aws.String("GB"), Formatted: aws.String("1 Broad St, Oxford"), Type: aws.String("work"), Primary: true}}
	out, err := e.IdentityStore.CreateUser(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.IdentityStore.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(e.IdentityStoreID), UserId: out.UserId})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.PhoneNumbers) != 1 || aws.ToString(d.PhoneNumbers[0].Value) != "+44 1865 000000" || aws.ToString(d.PhoneNumbers[0].Type) != "work" || !d.PhoneNumbers[0].Primary {
		t.Errorf("PhoneNumbers %+v", d.PhoneNumbers)
	}
	if len(d.Addresses) != 1 {
		t.Fatalf("Addresses %+v", d.Addresses)
	}
	if a := d.Addresses[0]; aws.ToString(a.StreetAddress) != "1 Broad St" || aws.ToString(a.Locality) != "Oxford" || aws.ToString(a.Region) != "Oxon" ||
		aws.ToString(a.PostalCode) != "OX1 3AA" || aws.ToString(a.Country) != "GB" || aws.ToString(a.Formatted) != "1 Broad St, Oxford" ||
		aws.ToString(a.Type) != "work" || !a.Primary {
		t.Errorf("Address %+v", a)
	}
}
