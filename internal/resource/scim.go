package resource

import (
	"fmt"
	"strings"
	"time"
)

// SCIMTokenSpec is the bearer token of one SCIM connector (package scim): metadata.name is the
// connector's name. Only a SHA-256 hash of the token's secret is kept, never served, exported nor
// written to the audit log. A connector has one token at a time: creating one replaces the last.
type SCIMTokenSpec struct {
	Connector  string    `json:"connector"`
	SecretHash string    `json:"secret_hash,omitempty"`
	Created    time.Time `json:"created,omitzero"`
	// Issuer is who made the token: a user's name or warden:admin.
	Issuer string `json:"issuer,omitempty"`
}

func (s *SCIMTokenSpec) index(*Metadata) []IndexEntry {
	return []IndexEntry{{"connector", s.Connector}}
}

func (s *SCIMTokenSpec) validate(v *validator, m *Metadata) {
	if !ValidConnectorName(s.Connector) {
		v.add("spec.connector", "%q is not a connector name (1-32 lower-case letters, digits, _ or -)", s.Connector)
	}
	if m.Name != s.Connector {
		v.add("metadata.name", "%q must be the connector's name %q", m.Name, s.Connector)
	}
	if s.SecretHash == "" {
		v.add("spec.secret_hash", "required")
	}
	checkIssuer(v, "spec.issuer", s.Issuer)
}

// SCIMGroupSpec is a group a SCIM connector that maps groups to a user trait (groups: traits)
// was given: the provider's group, kept so that SCIM can read it back, and whose members hold its
// display name as a value of the connector's trait. metadata.name is
// "<connector>.<the group's SCIM id>". (A connector that maps groups to access lists keeps them
// as lists instead.)
type SCIMGroupSpec struct {
	Connector   string `json:"connector"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	ExternalID  string `json:"external_id,omitempty"`
	// Members are user names, sorted, without repeats.
	Members []string `json:"members,omitempty"`
}

// SCIMGroupName is the record name of a connector's group.
func SCIMGroupName(connector, id string) string { return connector + "." + id }

// MaxSCIMGroupMembers bounds the members one SCIM group record holds.
const MaxSCIMGroupMembers = 100000

func (s *SCIMGroupSpec) index(*Metadata) []IndexEntry {
	out := []IndexEntry{{"connector", s.Connector}}
	if s.ExternalID != "" {
		out = append(out, IndexEntry{IndexUpstreamExternalID, OriginSCIMPrefix + s.Connector + "/" + s.ExternalID})
	}
	for _, m := range s.Members {
		out = append(out, IndexEntry{IndexMember, m})
	}
	return out
}

func (s *SCIMGroupSpec) validate(v *validator, m *Metadata) {
	if !ValidConnectorName(s.Connector) {
		v.add("spec.connector", "%q is not a connector name", s.Connector)
	}
	checkUpstreamID(v, "spec.id", s.ID)
	if s.ID == "" || strings.ContainsAny(s.ID, "/ ") {
		v.add("spec.id", "%q: required, without spaces or /", s.ID)
	}
	if m.Name != SCIMGroupName(s.Connector, s.ID) {
		v.add("metadata.name", "%q must be %q", m.Name, SCIMGroupName(s.Connector, s.ID))
	}
	if checkRequired(v, "spec.display_name", s.DisplayName) {
		checkText(v, "spec.display_name", s.DisplayName, 1024)
	}
	checkUpstreamID(v, "spec.external_id", s.ExternalID)
	if len(s.Members) > MaxSCIMGroupMembers {
		v.add("spec.members", "%d members; at most %d", len(s.Members), MaxSCIMGroupMembers)
		return
	}
	checkNameList(v, "spec.members", s.Members, false, checkUserName)
}

// String names a SCIM group as messages do.
func (s *SCIMGroupSpec) String() string {
	return fmt.Sprintf("group %q of scim:%s", s.DisplayName, s.Connector)
}
