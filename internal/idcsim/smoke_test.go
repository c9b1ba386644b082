package idcsim_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/wardenhq/warden/internal/idcsim"
)

func TestSmoke(t *testing.T) {
	sim := idcsim.New(idcsim.Options{Seed: 1})
	hs := httptest.NewServer(sim)
	defer hs.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), BaseEndpoint: aws.String(hs.URL)}
	ctx := context.Background()
	sso := ssoadmin.NewFromConfig(cfg)
	out, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v %s", *out.Instances[0].InstanceArn, *out.Instances[0].IdentityStoreId)
	ids := identitystore.NewFromConfig(cfg)
	u, err := ids.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: out.Instances[0].IdentityStoreId, UserName: aws.String("alice"), DisplayName: aws.String("Alice"),
		Name: &istypes.Name{GivenName: aws.String("A"), FamilyName: aws.String("B")}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: out.Instances[0].IdentityStoreId, UserId: u.UserId})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s %v", *d.UserName, *d.Name.GivenName, d.CreatedAt)
	_, err = ids.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: out.Instances[0].IdentityStoreId, UserName: aws.String("ALICE"), DisplayName: aws.String("Alice"),
		Name: &istypes.Name{GivenName: aws.String("A"), FamilyName: aws.String("B")}})
	t.Logf("%T %v", err, err)
	org := organizations.NewFromConfig(cfg)
	o, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", *o.Organization.Id)
}
