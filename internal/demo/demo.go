// Package demo holds the sample organisation that warden demo loads: accounts, permission sets,
// roles, users and access lists a newcomer can read in org.yaml.
package demo

import (
	_ "embed"

	"github.com/wardenhq/warden/internal/resource"
)

//go:embed org.yaml
var orgYAML []byte

// Organisation returns the demo organisation's resources, decoded and validated.
func Organisation() ([]*resource.Object, error) {
	return resource.DecodeAll("demo/org.yaml", orgYAML)
}
