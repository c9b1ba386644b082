package reconcile

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
)

func renameGroupInput(store, id, title string) *identitystore.UpdateGroupInput {
	return &identitystore.UpdateGroupInput{IdentityStoreId: aws.String(store), GroupId: aws.String(id),
		Operations: []istypes.AttributeOperation{{AttributePath: aws.String("displayName"), AttributeValue: document.NewLazyDocument(title)}}}
}
