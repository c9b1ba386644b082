package reconcile

import (
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
)

func compileAll(patterns []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

func renameGroupInput(store, id, title string) *identitystore.UpdateGroupInput {
	return &identitystore.UpdateGroupInput{IdentityStoreId: aws.String(store), GroupId: aws.String(id),
		Operations: []istypes.AttributeOperation{{AttributePath: aws.String("displayName"), AttributeValue: document.NewLazyDocument(title)}}}
}
