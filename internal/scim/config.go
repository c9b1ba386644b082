package scim

import (
	"fmt"

	"github.com/wardenhq/warden/internal/resource"
)

// Group mappings (Config.Groups).
const (
	GroupsLists  = "lists"
	GroupsTraits = "traits"
)

// Deprovisioning (Config.Deprovision).
const (
	DeprovisionDisable = "disable"
	DeprovisionDelete  = "delete"
)

// DefaultGroupsTrait is the trait a connector with groups: traits keeps group names in.
const DefaultGroupsTrait = "groups"

// Config is one SCIM connector, an item of the config file's scim.connectors list: one upstream
// identity provider (an Entra ID or Okta application) provisioning users and groups into warden.
type Config struct {
	// Name names the connector: what it provisions has origin scim:<name>, and its changes are
	// audited as scim:<name>. 1-32 lower-case letters, digits, '_' or '-'.
	Name string `yaml:"name"`
	// Groups says what a pushed group becomes: lists (the default), an access list of origin
	// scim:<name> whose members the provider keeps and whose grants are governed in warden; or
	// traits, a value (the group's name) of the user trait GroupsTrait of its members.
	Groups string `yaml:"groups"`
	// GroupsTrait is the trait of groups: traits (default "groups").
	GroupsTrait string `yaml:"groups_trait"`
	// DefaultOwners own the access lists the connector creates (required with groups: lists).
	DefaultOwners []string `yaml:"default_owners"`
	// Deprovision is what a deactivated or deleted user becomes: disable (the default) keeps the
	// warden user disabled and their Identity Center user with nothing assigned; delete disables
	// them at once too, then removes their Identity Center user, and a DELETE removes the warden
	// user as well.
	Deprovision string `yaml:"deprovision"`
}

// WithDefaults fills in what was left out.
func (c Config) WithDefaults() Config {
	if c.Groups == "" {
		c.Groups = GroupsLists
	}
	if c.Groups == GroupsTraits && c.GroupsTrait == "" {
		c.GroupsTrait = DefaultGroupsTrait
	}
	if c.Deprovision == "" {
		c.Deprovision = DeprovisionDisable
	}
	return c
}

// Origin is what the connector provisions has as origin, and its actor in the audit log.
func (c Config) Origin() string { return resource.OriginSCIMPrefix + c.Name }

// Validate checks one connector; field is its place in the file (scim.connectors[0]).
func (c *Config) Validate(field string) error {
	if !resource.ValidConnectorName(c.Name) {
		return fmt.Errorf("%s.name: %q is not a connector name: 1-32 lower-case letters, digits, _ or -, starting with a letter or digit", field, c.Name)
	}
	d := c.WithDefaults()
	switch d.Groups {
	case GroupsLists:
		if c.GroupsTrait != "" {
			return fmt.Errorf("%s.groups_trait: set only with groups: traits", field)
		}
		if len(c.DefaultOwners) == 0 {
			return fmt.Errorf("%s.default_owners: required with groups: lists (the owners of the access lists the connector creates)", field)
		}
	case GroupsTraits:
		if !resource.ValidTraitName(d.GroupsTrait) {
			return fmt.Errorf("%s.groups_trait: %q is not a trait name", field, d.GroupsTrait)
		}
		if len(c.DefaultOwners) > 0 {
			return fmt.Errorf("%s.default_owners: set only with groups: lists", field)
		}
	default:
		return fmt.Errorf("%s.groups: %q is not lists or traits", field, c.Groups)
	}
	if len(c.DefaultOwners) > 64 {
		return fmt.Errorf("%s.default_owners: %d owners; at most 64", field, len(c.DefaultOwners))
	}
	for i, o := range c.DefaultOwners {
		if !resource.ValidUserName(o) {
			return fmt.Errorf("%s.default_owners[%d]: %q is not a user name", field, i, o)
		}
	}
	switch d.Deprovision {
	case DeprovisionDisable, DeprovisionDelete:
	default:
		return fmt.Errorf("%s.deprovision: %q is not disable or delete", field, c.Deprovision)
	}
	return nil
}

// ValidateAll checks a connector list: each connector, at most 16, names unique.
func ValidateAll(field string, cs []Config) error {
	if len(cs) > 16 {
		return fmt.Errorf("%s: %d connectors; at most 16", field, len(cs))
	}
	seen := map[string]bool{}
	for i := range cs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := cs[i].Validate(f); err != nil {
			return err
		}
		if seen[cs[i].Name] {
			return fmt.Errorf("%s.name: %q names another connector too; names must be unique", f, cs[i].Name)
		}
		seen[cs[i].Name] = true
	}
	return nil
}
