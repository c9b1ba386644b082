package resource_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wardenhq/warden/internal/resource"
)

const knownKinds = "access_list, access_list_member, access_request, account, permission_set, role, saml_service_provider, user"

// badCase is one document that DecodeAll must reject, and the first problem it must report.
type badCase struct {
	name  string
	doc   string
	field string // the first field error's path
	msg   string // a distinctive part of its message
	exact bool   // msg is the whole message
}

// role wraps an allow block (already indented by four spaces) in a valid role document.
func role(allow string) string {
	return "kind: role\nversion: v1\nmetadata: {name: dev}\nspec:\n  allow:\n" + allow
}

var badInputs = map[resource.Kind][]badCase{
	"envelope": {
		{name: "duplicate key in metadata", doc: "kind: user\nmetadata: {name: r1, name: r2}\n",
			field: "metadata.name", msg: "given twice", exact: true},
		{name: "duplicate key in JSON spec", doc: `{"kind": "user", "metadata": {"name": "a"}, "spec": {"email": "a@example.com", "email": "b@example.com"}}`,
			field: "spec.email", msg: "given twice", exact: true},
		{name: "duplicate envelope key", doc: "kind: user\nkind: role\nmetadata: {name: a}\n",
			field: "kind", msg: "given twice", exact: true},
		{name: "user name of dots only", doc: "kind: user\nmetadata: {name: ..}\n",
			field: "metadata.name", msg: "not only dots"},
		{name: "glob with characters no name has", doc: "kind: role\nmetadata: {name: r}\nspec: {allow: {request: {roles: [\"dev/*/#\"]}}}\n",
			field: "spec.allow.request.roles[0]", msg: "may hold only * and ?"},
		{name: "permission set glob with a space", doc: "kind: role\nmetadata: {name: r}\nspec: {allow: {account_assignments: [{account: \"*\", permission_set: \"Admin Access *\"}]}}\n",
			field: "spec.allow.account_assignments[0].permission_set", msg: "may hold only * and ?"},
		{name: "account of spaces", doc: "kind: role\nmetadata: {name: r}\nspec: {allow: {account_assignments: [{account: \"   \", permission_set: ReadOnlyAccess}]}}\n",
			field: "spec.allow.account_assignments[0].account", msg: "is not a 12-digit account id, an account name or a glob"},
		{name: "list member name of a user form", doc: "kind: access_list_member\nmetadata: {name: eng/platform}\nspec: {list: eng, member: platform, member_kind: list}\n",
			field: "metadata.name", msg: `"eng/platform" must be "eng/list:platform" or left out`, exact: true},
		{name: "missing kind", doc: "version: v1\nmetadata: {name: alice}\n",
			field: "kind", msg: "required (one of " + knownKinds + ")", exact: true},
		{name: "empty kind", doc: "kind: \"\"\nmetadata: {name: alice}\n",
			field: "kind", msg: "required (one of " + knownKinds + ")", exact: true},
		{name: "unknown kind", doc: "kind: robot\nmetadata: {name: r2}\n",
			field: "kind", msg: `unknown kind "robot" (known kinds: ` + knownKinds + ")", exact: true},
		{name: "internal kind is not accepted", doc: "kind: api_token\nmetadata: {name: t1}\nspec: {user: alice, secret_hash: x}\n",
			field: "kind", msg: `unknown kind "api_token"`},
		{name: "kind is a list", doc: "kind: [user]\nmetadata: {name: alice}\n",
			field: "kind", msg: "must be a string", exact: true},
		{name: "kind is null", doc: "kind: ~\nmetadata: {name: alice}\n",
			field: "kind", msg: "must be a string", exact: true},
		{name: "bad version", doc: "kind: user\nversion: v2\nmetadata: {name: alice}\n",
			field: "version", msg: `"v2" is not a supported version (use v1)`, exact: true},
		{name: "version is a mapping", doc: "kind: user\nversion: {v: 1}\nmetadata: {name: alice}\n",
			field: "version", msg: "must be a string"},
		{name: "unknown top-level field", doc: "kind: user\nversion: v1\nmetadata: {name: alice}\nspecs: {}\n",
			field: "specs", msg: "unknown field (a resource has kind, version, metadata, spec, status)", exact: true},
		{name: "unknown top-level field before kind", doc: "apiVersion: v1\nkind: user\nmetadata: {name: alice}\n",
			field: "apiVersion", msg: "a resource has kind, version, metadata, spec, status"},
		{name: "unknown metadata field", doc: "kind: user\nmetadata: {name: alice, nmae: alice}\n",
			field: "metadata.nmae", msg: "unknown field (known fields here: created_at, description, labels, name, revision, updated_at)", exact: true},
		{name: "metadata is a string", doc: "kind: user\nmetadata: alice\n",
			field: "metadata", msg: `must be a mapping, found the string "alice"`},
		{name: "metadata name is a list", doc: "kind: user\nmetadata: {name: [alice]}\n",
			field: "metadata.name", msg: "must be a string, found a list", exact: true},
		{name: "metadata name is true", doc: "kind: role\nmetadata: {name: true}\n",
			field: "metadata.name", msg: `must be a string, found true/false (quote it: "true")`, exact: true},
		{name: "metadata revision is a string", doc: "kind: user\nmetadata: {name: alice, revision: latest}\n",
			field: "metadata.revision", msg: `must be a whole number, found the string "latest"`, exact: true},
		{name: "bad label key", doc: "kind: user\nmetadata: {name: alice, labels: {\"-team\": x}}\n",
			field: "metadata.labels.-team", msg: `label key "-team" must be 1-63 letters`},
		{name: "label value not a string", doc: "kind: user\nmetadata: {name: alice, labels: {team: [a]}}\n",
			field: "metadata.labels.team", msg: "must be a string, found a list"},
		{name: "description too long", doc: "kind: user\nmetadata: {name: alice, description: " + strings.Repeat("d", 1025) + "}\n",
			field: "metadata.description", msg: "is 1025 characters long; at most 1024", exact: true},
		{name: "spec is a list", doc: "kind: user\nmetadata: {name: alice}\nspec: [a]\n",
			field: "spec", msg: "must be a mapping, found a list", exact: true},
		{name: "document is a scalar", doc: "hello\n",
			field: "", msg: "a resource must be a mapping with kind, version, metadata and spec", exact: true},
	},
	resource.KindUser: {
		{name: "name with a space", doc: "kind: user\nmetadata: {name: alice smith}\n",
			field: "metadata.name", msg: `"alice smith" is not a valid user name: use 1-128 letters, digits or _+=,.@- (no spaces, not only dots)`, exact: true},
		{name: "name too long", doc: "kind: user\nmetadata: {name: " + strings.Repeat("a", 129) + "}\n",
			field: "metadata.name", msg: "is not a valid user name"},
		{name: "name missing", doc: "kind: user\nmetadata: {}\n",
			field: "metadata.name", msg: "required", exact: true},
		{name: "metadata missing", doc: "kind: user\nspec: {email: alice@example.com}\n",
			field: "metadata.name", msg: "required", exact: true},
		{name: "bad email", doc: "kind: user\nmetadata: {name: alice}\nspec: {email: alice@}\n",
			field: "spec.email", msg: `"alice@" is not an email address like alice@example.com`, exact: true},
		{name: "email with a display name", doc: "kind: user\nmetadata: {name: alice}\nspec: {email: \"Alice <alice@example.com>\"}\n",
			field: "spec.email", msg: "is not an email address like alice@example.com"},
		{name: "email is true", doc: "kind: user\nmetadata: {name: alice}\nspec: {email: true}\n",
			field: "spec.email", msg: `must be a string, found true/false (quote it: "true")`, exact: true},
		{name: "display name is a list", doc: "kind: user\nmetadata: {name: alice}\nspec: {display_name: [Alice, Smith]}\n",
			field: "spec.display_name", msg: "must be a string, found a list", exact: true},
		{name: "given name is a mapping", doc: "kind: user\nmetadata: {name: alice}\nspec: {given_name: {first: Alice}}\n",
			field: "spec.given_name", msg: "must be a string, found a mapping", exact: true},
		{name: "admin is a string", doc: "kind: user\nmetadata: {name: alice}\nspec: {admin: \"yes\"}\n",
			field: "spec.admin", msg: `must be true or false, found the string "yes"`, exact: true},
		{name: "admin is a number", doc: "kind: user\nmetadata: {name: alice}\nspec: {admin: 1}\n",
			field: "spec.admin", msg: "must be true or false, found a number", exact: true},
		{name: "roles is a string", doc: "kind: user\nmetadata: {name: alice}\nspec: {roles: dev}\n",
			field: "spec.roles", msg: `must be a list, found the string "dev"`, exact: true},
		{name: "duplicate role", doc: "kind: user\nmetadata: {name: alice}\nspec: {roles: [dev, ops, dev]}\n",
			field: "spec.roles[2]", msg: `"dev" is listed twice (also at [0])`, exact: true},
		{name: "standing role may not be a glob", doc: "kind: user\nmetadata: {name: alice}\nspec: {roles: [ops, \"dev-*\"]}\n",
			field: "spec.roles[1]", msg: `"dev-*" is not a valid name`},
		{name: "role list item is a mapping", doc: "kind: user\nmetadata: {name: alice}\nspec: {roles: [{name: dev}]}\n",
			field: "spec.roles[0]", msg: "must be a string, found a mapping", exact: true},
		{name: "traits is a list", doc: "kind: user\nmetadata: {name: alice}\nspec: {traits: [team]}\n",
			field: "spec.traits", msg: "must be a mapping, found a list", exact: true},
		{name: "trait values is a string", doc: "kind: user\nmetadata: {name: alice}\nspec: {traits: {team: platform}}\n",
			field: "spec.traits.team", msg: `must be a list, found the string "platform"`, exact: true},
		{name: "bad trait name", doc: "kind: user\nmetadata: {name: alice}\nspec: {traits: {\"-team\": [a]}}\n",
			field: "spec.traits.-team", msg: `trait name "-team" must be 1-128 letters`},
		{name: "empty trait value", doc: "kind: user\nmetadata: {name: alice}\nspec: {traits: {team: [a, \"\"]}}\n",
			field: "spec.traits.team[1]", msg: "empty trait value", exact: true},
		{name: "bad origin", doc: "kind: user\nmetadata: {name: alice}\nspec: {origin: ldap}\n",
			field: "spec.origin", msg: `"ldap" is not one of warden, identity_center, oidc:<connector name> or scim:<connector name>`, exact: true},
		{name: "origin of a bad connector name", doc: "kind: user\nmetadata: {name: alice}\nspec: {origin: \"oidc:Okta Prod\"}\n",
			field: "spec.origin", msg: `"oidc:Okta Prod" does not name an upstream connector`},
		{name: "origin naming no connector", doc: "kind: user\nmetadata: {name: alice}\nspec: {origin: \"oidc:\"}\n",
			field: "spec.origin", msg: `"oidc:" does not name an upstream connector`},
		{name: "upstream record of no connector", doc: "kind: user\nmetadata: {name: alice}\nspec: {upstream: {okta: {subject: \"123\"}}}\n",
			field: "spec.upstream.okta", msg: `"okta" is not an upstream connector: oidc:<connector name> or scim:<connector name>`, exact: true},
		{name: "upstream subject too long", doc: "kind: user\nmetadata: {name: alice}\nspec: {upstream: {\"oidc:okta\": {subject: " + strings.Repeat("s", 256) + "}}}\n",
			field: "spec.upstream.oidc:okta.subject", msg: "is 256 bytes long; at most 255", exact: true},
		{name: "upstream role is a glob", doc: "kind: user\nmetadata: {name: alice}\nspec: {upstream: {\"oidc:okta\": {roles: [\"dev-*\"]}}}\n",
			field: "spec.upstream.oidc:okta.roles[0]", msg: `"dev-*" is not a valid name`},
		{name: "upstream trait value empty", doc: "kind: user\nmetadata: {name: alice}\nspec: {upstream: {\"oidc:okta\": {traits: {team: [\"\"]}}}}\n",
			field: "spec.upstream.oidc:okta.traits.team[0]", msg: "empty trait value", exact: true},
		{name: "unknown upstream field", doc: "kind: user\nmetadata: {name: alice}\nspec: {upstream: {\"oidc:okta\": {lists: [sre]}}}\n",
			field: "spec.upstream.oidc:okta.lists", msg: "unknown field (known fields here: external_id, id, roles, subject, traits)", exact: true},
		{name: "scim origin of a bad connector name", doc: "kind: user\nmetadata: {name: alice}\nspec: {origin: \"scim:\"}\n",
			field: "spec.origin", msg: `"scim:" does not name an upstream connector: scim:<connector name>`},
		{name: "upstream id on an oidc record", doc: "kind: user\nmetadata: {name: alice}\nspec: {upstream: {\"oidc:okta\": {id: \"1\"}}}\n",
			field: "spec.upstream.oidc:okta", msg: "ids are kept only for SCIM connectors (scim:<connector name>)", exact: true},
		{name: "upstream external id with a control character", doc: "kind: user\nmetadata: {name: alice}\nspec: {upstream: {\"scim:entra\": {external_id: \"a\\u0001b\"}}}\n",
			field: "spec.upstream.scim:entra.external_id", msg: "holds a control character"},
		{name: "unknown spec field", doc: "kind: user\nmetadata: {name: alice}\nspec: {mail: alice@example.com}\n",
			field: "spec.mail", msg: "unknown field (known fields here: admin, disabled, display_name, email, family_name, given_name, origin, remove_when_disabled, roles, traits, upstream)", exact: true},
	},
	resource.KindRole: {
		{name: "name with a space", doc: "kind: role\nmetadata: {name: dev team}\n",
			field: "metadata.name", msg: `"dev team" is not a valid name: use 1-128 letters, digits or _+=,.@- starting with a letter or digit`, exact: true},
		{name: "name starting with a dash", doc: "kind: role\nmetadata: {name: -dev}\n",
			field: "metadata.name", msg: `"-dev" is not a valid name`},
		{name: "name with a slash", doc: "kind: role\nmetadata: {name: dev/ops}\n",
			field: "metadata.name", msg: `"dev/ops" is not a valid name`},
		{name: "name too long", doc: "kind: role\nmetadata: {name: " + strings.Repeat("r", 129) + "}\n",
			field: "metadata.name", msg: "is not a valid name"},
		{name: "name missing", doc: "kind: role\nmetadata: {description: nameless}\n",
			field: "metadata.name", msg: "required", exact: true},
		{name: "metadata missing", doc: "kind: role\nspec: {allow: {}}\n",
			field: "metadata.name", msg: "required", exact: true},
		{name: "account id of 5 digits", doc: role("    account_assignments:\n      - {account: \"058264527036\", permission_set: ReadOnly}\n      - {account: \"12345\", permission_set: ReadOnly}\n"),
			field: "spec.allow.account_assignments[1].account", msg: `"12345" is not a 12-digit account id, an account name or a glob`, exact: true},
		{name: "unquoted account id of 5 digits", doc: role("    account_assignments: [{account: 12345, permission_set: ReadOnly}]\n"),
			field: "spec.allow.account_assignments[0].account", msg: `"12345" is not a 12-digit account id, an account name or a glob`, exact: true},
		{name: "account id of 13 digits", doc: role("    account_assignments: [{account: \"0582645270361\", permission_set: ReadOnly}]\n"),
			field: "spec.allow.account_assignments[0].account", msg: `"0582645270361" is not a 12-digit account id`},
		{name: "account name not printable ASCII", doc: role("    account_assignments: [{account: Prödüction, permission_set: ReadOnly}]\n"),
			field: "spec.allow.account_assignments[0].account", msg: `"Prödüction" is not a 12-digit account id, an account name or a glob`, exact: true},
		{name: "account name too long", doc: role("    account_assignments: [{account: " + strings.Repeat("A", 51) + ", permission_set: ReadOnly}]\n"),
			field: "spec.allow.account_assignments[0].account", msg: "is not a 12-digit account id, an account name or a glob"},
		{name: "account missing", doc: role("    account_assignments: [{permission_set: ReadOnly}]\n"),
			field: "spec.allow.account_assignments[0].account", msg: "required: a 12-digit account id, an account name or a glob", exact: true},
		{name: "permission set missing", doc: role("    account_assignments: [{account: Production}]\n"),
			field: "spec.allow.account_assignments[0].permission_set", msg: "required: a permission set name, ARN or glob", exact: true},
		{name: "malformed permission set ARN", doc: role("    account_assignments: [{account: Production, permission_set: \"arn:aws:sso:::permissionSet/ssoins-123/ps-456\"}]\n"),
			field: "spec.allow.account_assignments[0].permission_set", msg: `"arn:aws:sso:::permissionSet/ssoins-123/ps-456" is a malformed permission set ARN (want arn:aws:sso:::permissionSet/ssoins-<16 characters>/ps-<16 characters>)`, exact: true},
		{name: "permission set ARN of another service", doc: role("    account_assignments: [{account: Production, permission_set: \"arn:aws:iam::aws:policy/ReadOnlyAccess\"}]\n"),
			field: "spec.allow.account_assignments[0].permission_set", msg: "is a malformed permission set ARN"},
		{name: "permission set name with a space", doc: role("    account_assignments: [{account: Production, permission_set: Admin Access}]\n"),
			field: "spec.allow.account_assignments[0].permission_set", msg: `"Admin Access" is not a permission set name (1-32 letters, digits or _+=,.@-), ARN or glob`, exact: true},
		{name: "permission set name of 33 characters", doc: role("    account_assignments: [{account: Production, permission_set: " + strings.Repeat("P", 33) + "}]\n"),
			field: "spec.allow.account_assignments[0].permission_set", msg: "is not a permission set name (1-32 letters"},
		{name: "permission set glob too long", doc: role("    account_assignments: [{account: Production, permission_set: \"" + strings.Repeat("P", 64) + "*\"}]\n"),
			field: "spec.allow.account_assignments[0].permission_set", msg: "is longer than 64 characters"},
		{name: "duplicate account assignment", doc: role("    account_assignments:\n      - {account: \"058264527036\", permission_set: AdministratorAccess}\n      - {account: Production, permission_set: AdministratorAccess}\n      - {account: \"058264527036\", permission_set: AdministratorAccess}\n"),
			field: "spec.allow.account_assignments[2]", msg: `account "058264527036" with permission set "AdministratorAccess" is listed twice (also at [0])`, exact: true},
		{name: "deny side account", doc: "kind: role\nmetadata: {name: dev}\nspec:\n  deny:\n    account_assignments: [{account: \"12345\", permission_set: \"*\"}]\n",
			field: "spec.deny.account_assignments[0].account", msg: `"12345" is not a 12-digit account id`},
		{name: "account assignments is a mapping", doc: role("    account_assignments: {account: Production, permission_set: ReadOnly}\n"),
			field: "spec.allow.account_assignments", msg: "must be a list, found a mapping", exact: true},
		{name: "allow is a string", doc: "kind: role\nmetadata: {name: dev}\nspec: {allow: everything}\n",
			field: "spec.allow", msg: `must be a mapping, found the string "everything"`, exact: true},
		{name: "unknown field deep in spec", doc: role("    account_assignments: [{account: Production, permision_set: ReadOnly}]\n"),
			field: "spec.allow.account_assignments[0].permision_set", msg: "unknown field (known fields here: account, permission_set)", exact: true},
		{name: "unknown field in request", doc: role("    request: {roles: [ops], max_duraton: 8h}\n"),
			field: "spec.allow.request.max_duraton", msg: "unknown field (known fields here: account_assignments, max_duration, reason, roles, thresholds)", exact: true},
		{name: "unknown field in spec", doc: "kind: role\nmetadata: {name: dev}\nspec: {allow: {}, permit: {}}\n",
			field: "spec.permit", msg: "unknown field (known fields here: allow, deny)", exact: true},
		{name: "max_duration in words", doc: role("    request: {roles: [ops], max_duration: 8 hours}\n"),
			field: "spec.allow.request.max_duration", msg: `"8 hours" is not a duration like 8h, 90m or 1h30m`, exact: true},
		{name: "max_duration in ISO-8601", doc: role("    request: {roles: [ops], max_duration: PT8H}\n"),
			field: "spec.allow.request.max_duration", msg: `"PT8H" is an ISO-8601 duration; write this one in Go's form, like 8h or 90m`, exact: true},
		{name: "max_duration lower-case ISO-8601", doc: role("    request: {roles: [ops], max_duration: pt8h}\n"),
			field: "spec.allow.request.max_duration", msg: "is an ISO-8601 duration; write this one in Go's form"},
		{name: "max_duration without a unit", doc: role("    request: {roles: [ops], max_duration: 8}\n"),
			field: "spec.allow.request.max_duration", msg: `"8" is not a duration like 8h`},
		{name: "max_duration zero", doc: role("    request: {roles: [ops], max_duration: 0s}\n"),
			field: "spec.allow.request.max_duration", msg: `"0s" must be positive`, exact: true},
		{name: "max_duration negative", doc: role("    request: {roles: [ops], max_duration: -1h}\n"),
			field: "spec.allow.request.max_duration", msg: `"-1h" must be positive`, exact: true},
		{name: "max_duration over a leap year", doc: role("    request: {roles: [ops], max_duration: 8785h}\n"),
			field: "spec.allow.request.max_duration", msg: `"8785h" is longer than the maximum 8784h0m0s`, exact: true},
		{name: "bad reason", doc: role("    request: {roles: [ops], reason: maybe}\n"),
			field: "spec.allow.request.reason", msg: `"maybe" is not one of required, optional`, exact: true},
		{name: "threshold approve 0", doc: role("    request:\n      roles: [ops]\n      thresholds: [{approve: 2}, {approve: 0, deny: 1}]\n"),
			field: "spec.allow.request.thresholds[1].approve", msg: "0: a threshold must be at least 1", exact: true},
		{name: "threshold deny -1", doc: role("    request:\n      roles: [ops]\n      thresholds: [{approve: 1, deny: -1}]\n"),
			field: "spec.allow.request.thresholds[0].deny", msg: "-1: a threshold must be at least 1", exact: true},
		{name: "threshold approve is a string", doc: role("    request:\n      roles: [ops]\n      thresholds: [{approve: \"2\"}]\n"),
			field: "spec.allow.request.thresholds[0].approve", msg: `must be a whole number, found the string "2"`, exact: true},
		{name: "threshold approve is a fraction", doc: role("    request:\n      roles: [ops]\n      thresholds: [{approve: 1.5}]\n"),
			field: "spec.allow.request.thresholds[0].approve", msg: "must be a whole number, found a number", exact: true},
		{name: "threshold deny is true", doc: role("    request:\n      roles: [ops]\n      thresholds: [{name: 7, deny: true}]\n"),
			field: "spec.allow.request.thresholds[0].deny", msg: "must be a whole number, found true/false", exact: true},
		{name: "duplicate requestable role", doc: role("    request: {roles: [ops, \"prod-*\", ops]}\n"),
			field: "spec.allow.request.roles[2]", msg: `"ops" is listed twice (also at [0])`, exact: true},
		{name: "bad requestable role name", doc: role("    request: {roles: [\"ops team\"]}\n"),
			field: "spec.allow.request.roles[0]", msg: `"ops team" is not a valid name`},
		{name: "requestable glob too long", doc: role("    request: {roles: [\"" + strings.Repeat("r", 128) + "*\"]}\n"),
			field: "spec.allow.request.roles[0]", msg: "must be 1-128 characters"},
		{name: "duplicate requestable assignment", doc: role("    request:\n      account_assignments: [{account: Production, permission_set: \"*\"}, {account: Production, permission_set: \"*\"}]\n"),
			field: "spec.allow.request.account_assignments[1]", msg: `account "Production" with permission set "*" is listed twice (also at [0])`, exact: true},
		{name: "bad reviewable role", doc: role("    review_requests: {roles: [ops, \"\"]}\n"),
			field: "spec.allow.review_requests.roles[1]", msg: "required", exact: true},
		{name: "review_requests roles is a string", doc: role("    review_requests: {roles: ops}\n"),
			field: "spec.allow.review_requests.roles", msg: `must be a list, found the string "ops"`, exact: true},
		{name: "max_duration under deny", doc: "kind: role\nmetadata: {name: dev}\nspec:\n  deny:\n    request: {roles: [ops], max_duration: 8h}\n",
			field: "spec.deny.request.max_duration", msg: "only allowed under allow", exact: true},
		{name: "reason under deny", doc: "kind: role\nmetadata: {name: dev}\nspec:\n  deny:\n    request: {reason: required}\n",
			field: "spec.deny.request.reason", msg: "only allowed under allow", exact: true},
		{name: "thresholds under deny", doc: "kind: role\nmetadata: {name: dev}\nspec:\n  deny:\n    request: {thresholds: [{approve: 1}]}\n",
			field: "spec.deny.request.thresholds", msg: "only allowed under allow", exact: true},
	},
	resource.KindAccessList: {
		{name: "name with a space", doc: "kind: access_list\nmetadata: {name: \"eng team\"}\nspec: {title: Eng, owners: [alice]}\n",
			field: "metadata.name", msg: `"eng team" is not a valid name: use 1-128 letters`},
		{name: "name with a colon", doc: "kind: access_list\nmetadata: {name: \"eng:team\"}\nspec: {title: Eng, owners: [alice]}\n",
			field: "metadata.name", msg: `"eng:team" is not a valid name`},
		{name: "title missing", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {owners: [alice]}\n",
			field: "spec.title", msg: "required", exact: true},
		{name: "title blank", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: \"  \", owners: [alice]}\n",
			field: "spec.title", msg: "required", exact: true},
		{name: "title is a list", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: [Eng], owners: [alice]}\n",
			field: "spec.title", msg: "must be a string, found a list", exact: true},
		{name: "title too long", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: " + strings.Repeat("t", 1025) + ", owners: [alice]}\n",
			field: "spec.title", msg: "is 1025 characters long; at most 1024", exact: true},
		{name: "owners missing", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng}\n",
			field: "spec.owners", msg: "required: at least one owner (a user name)", exact: true},
		{name: "owners empty", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: []}\n",
			field: "spec.owners", msg: "required: at least one owner (a user name)", exact: true},
		{name: "owners is a string", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: alice}\n",
			field: "spec.owners", msg: `must be a list, found the string "alice"`, exact: true},
		{name: "duplicate owner", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice, bob, alice]}\n",
			field: "spec.owners[2]", msg: `"alice" is listed twice (also at [0])`, exact: true},
		{name: "bad owner name", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice, bob smith]}\n",
			field: "spec.owners[1]", msg: `"bob smith" is not a valid user name`},
		{name: "owner may not be a glob", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [\"*\"]}\n",
			field: "spec.owners[0]", msg: `"*" is not a valid user name`},
		{name: "duplicate granted role", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], grants: {roles: [dev, dev]}}\n",
			field: "spec.grants.roles[1]", msg: `"dev" is listed twice (also at [0])`, exact: true},
		{name: "granted role may not be a glob", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], grants: {roles: [\"dev*\"]}}\n",
			field: "spec.grants.roles[0]", msg: `"dev*" is not a valid name`},
		{name: "granted trait empty value", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], grants: {traits: {team: [\"\"]}}}\n",
			field: "spec.grants.traits.team[0]", msg: "empty trait value", exact: true},
		{name: "unknown field in grants", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], grants: {role: [dev]}}\n",
			field: "spec.grants.role", msg: "unknown field (known fields here: roles, traits)", exact: true},
		{name: "audit frequency 2", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], audit: {recurrence: {frequency: 2}}}\n",
			field: "spec.audit.recurrence.frequency", msg: "2 is not one of 1, 3, 6 or 12 (months)", exact: true},
		{name: "audit frequency missing", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], audit: {recurrence: {day_of_month: last}}}\n",
			field: "spec.audit.recurrence.frequency", msg: "0 is not one of 1, 3, 6 or 12 (months)", exact: true},
		{name: "audit frequency is a string", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], audit: {recurrence: {frequency: \"3\"}}}\n",
			field: "spec.audit.recurrence.frequency", msg: `must be a whole number, found the string "3"`, exact: true},
		{name: "day_of_month 10", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], audit: {recurrence: {frequency: 3, day_of_month: 10}}}\n",
			field: "spec.audit.recurrence.day_of_month", msg: `"10" is not one of 1, 15, last`, exact: true},
		{name: "day_of_month First", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], audit: {recurrence: {frequency: 3, day_of_month: first}}}\n",
			field: "spec.audit.recurrence.day_of_month", msg: `"first" is not one of 1, 15, last`, exact: true},
		{name: "day_of_month is a list", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], audit: {recurrence: {frequency: 3, day_of_month: [1, 15]}}}\n",
			field: "spec.audit.recurrence.day_of_month", msg: "must be a single value, found a list", exact: true},
		{name: "unknown field in recurrence", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], audit: {recurrence: {every: 3}}}\n",
			field: "spec.audit.recurrence.every", msg: "unknown field (known fields here: day_of_month, frequency)", exact: true},
		{name: "bad next audit date", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], audit: {recurrence: {frequency: 3}, next_audit_date: soon}}\n",
			field: "spec.audit.next_audit_date", msg: `"soon" is not a time like 2026-01-02T15:04:05Z or a date like 2026-01-02`, exact: true},
		{name: "next audit date is a number", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], audit: {recurrence: {frequency: 3}, next_audit_date: 20260102}}\n",
			field: "spec.audit.next_audit_date", msg: "must be a time like 2026-01-02T15:04:05Z, found a number", exact: true},
		{name: "bad required role", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], membership_requires: {roles: [ok, \"not ok\"]}}\n",
			field: "spec.membership_requires.roles[1]", msg: `"not ok" is not a valid name`},
		{name: "bad required trait name", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], membership_requires: {traits: {\"a b\": [x]}}}\n",
			field: "spec.membership_requires.traits.a b", msg: `trait name "a b" must be`},
		{name: "bad origin", doc: "kind: access_list\nmetadata: {name: eng}\nspec: {title: Eng, owners: [alice], origin: okta}\n",
			field: "spec.origin", msg: `"okta" is not one of warden, identity_center or scim:<connector name>`, exact: true},
		{name: "list origin of an oidc connector", doc: "kind: access_list\nmetadata: {name: ops}\nspec: {title: Ops, owners: [alice], origin: \"oidc:okta\"}\n",
			field: "spec.origin", msg: `"oidc:okta" is not one of warden, identity_center or scim:<connector name>`, exact: true},
		{name: "list origin of a bad scim connector", doc: "kind: access_list\nmetadata: {name: ops}\nspec: {title: Ops, owners: [alice], origin: \"scim:Entra\"}\n",
			field: "spec.origin", msg: `"scim:Entra" does not name an upstream connector`},
		{name: "list upstream of an oidc connector", doc: "kind: access_list\nmetadata: {name: ops}\nspec: {title: Ops, owners: [alice], upstream: {\"oidc:okta\": {subject: x}}}\n",
			field: "spec.upstream.oidc:okta", msg: "an access list keeps records of SCIM connectors only (scim:<connector name>)", exact: true},
	},
	resource.KindAccessListMember: {
		{name: "list that is a member of itself", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: eng, member_kind: list}\n",
			field: "spec.member", msg: `access list "eng" cannot be a member of itself`, exact: true},
		{name: "bad member kind", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: alice, member_kind: group}\n",
			field: "spec.member_kind", msg: `"group" is not one of user, list`, exact: true},
		{name: "list missing", doc: "kind: access_list_member\nmetadata: {}\nspec: {member: alice}\n",
			field: "spec.list", msg: "required", exact: true},
		{name: "bad list name", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: \"eng team\", member: alice}\n",
			field: "spec.list", msg: `"eng team" is not a valid name`},
		{name: "member missing", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng}\n",
			field: "spec.member", msg: "required", exact: true},
		{name: "bad user member", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: alice smith}\n",
			field: "spec.member", msg: `"alice smith" is not a valid user name`},
		{name: "bad list member", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: \"@ops\", member_kind: list}\n",
			field: "spec.member", msg: `"@ops" is not a valid name`},
		{name: "name that is not list/member", doc: "kind: access_list_member\nmetadata: {name: eng/bob}\nspec: {list: eng, member: alice}\n",
			field: "metadata.name", msg: `"eng/bob" must be "eng/alice" or left out`, exact: true},
		{name: "bad expires", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: alice, expires: next week}\n",
			field: "spec.expires", msg: `"next week" is not a time like 2026-01-02T15:04:05Z or a date like 2026-01-02`, exact: true},
		{name: "bad expires date", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: alice, expires: 2026-02-30}\n",
			field: "spec.expires", msg: `"2026-02-30" is not a time like`},
		{name: "expires is a mapping", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: alice, expires: {days: 30}}\n",
			field: "spec.expires", msg: "must be a time like 2026-01-02T15:04:05Z, found a mapping", exact: true},
		{name: "reason too long", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, member: alice, reason: " + strings.Repeat("r", 1025) + "}\n",
			field: "spec.reason", msg: "is 1025 characters long; at most 1024", exact: true},
		{name: "unknown spec field", doc: "kind: access_list_member\nmetadata: {}\nspec: {list: eng, user: alice}\n",
			field: "spec.user", msg: "unknown field (known fields here: added_by, expires, list, member, member_kind, reason)", exact: true},
	},
	resource.KindAccessRequest: {
		{name: "neither roles nor resources", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, reason: please}\n",
			field: "spec.roles", msg: "required: request roles or resources (an account and permission set)", exact: true},
		{name: "both roles and resources", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, roles: [ops], resources: [{account: Production, permission_set: ReadOnly}]}\n",
			field: "spec.resources", msg: "request either roles or resources, not both", exact: true},
		{name: "glob account in resource", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, resources: [{account: \"*\", permission_set: ReadOnly}]}\n",
			field: "spec.resources[0].account", msg: `"*" is a glob; name one account here (its 12-digit id or its name)`, exact: true},
		{name: "glob permission set in resource", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, resources: [{account: Production, permission_set: \"Admin*\"}]}\n",
			field: "spec.resources[0].permission_set", msg: `"Admin*" is a glob; name one permission set here`, exact: true},
		{name: "bad account in resource", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, resources: [{account: \"12345\", permission_set: ReadOnly}]}\n",
			field: "spec.resources[0].account", msg: `"12345" is not a 12-digit account id, an account name or a glob`, exact: true},
		{name: "requested role may not be a glob", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, roles: [\"prod-*\"]}\n",
			field: "spec.roles[0]", msg: `"prod-*" is not a valid name`},
		{name: "duplicate requested role", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, roles: [ops, ops]}\n",
			field: "spec.roles[1]", msg: `"ops" is listed twice (also at [0])`, exact: true},
		{name: "end before start", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, roles: [ops], start: \"2026-01-02T00:00:00Z\", end: \"2026-01-01T00:00:00Z\"}\n",
			field: "spec.end", msg: "2026-01-01T00:00:00Z is not after spec.start 2026-01-02T00:00:00Z", exact: true},
		{name: "end equal to start", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, roles: [ops], start: 2026-01-02, end: \"2026-01-02T00:00:00Z\"}\n",
			field: "spec.end", msg: "is not after spec.start"},
		{name: "reviewer reviewing twice", doc: "kind: access_request\nmetadata: {}\nspec:\n  user: alice\n  roles: [ops]\n  reviews:\n    - {author: bob, decision: APPROVE}\n    - {author: carol, decision: DENY}\n    - {author: bob, decision: DENY}\n",
			field: "spec.reviews[2].author", msg: `"bob" already reviewed this request (at [0]); a reviewer reviews once`, exact: true},
		{name: "requester reviewing their own request", doc: "kind: access_request\nmetadata: {}\nspec:\n  user: alice\n  roles: [ops]\n  reviews: [{author: alice, decision: APPROVE}]\n",
			field: "spec.reviews[0].author", msg: `"alice" cannot review their own request`, exact: true},
		{name: "bad decision", doc: "kind: access_request\nmetadata: {}\nspec:\n  user: alice\n  roles: [ops]\n  reviews: [{author: bob, decision: approve}]\n",
			field: "spec.reviews[0].decision", msg: `"approve" is not one of APPROVE, DENY`, exact: true},
		{name: "review without author", doc: "kind: access_request\nmetadata: {}\nspec:\n  user: alice\n  roles: [ops]\n  reviews: [{decision: DENY}]\n",
			field: "spec.reviews[0].author", msg: "required", exact: true},
		{name: "bad review time", doc: "kind: access_request\nmetadata: {}\nspec:\n  user: alice\n  roles: [ops]\n  reviews: [{author: bob, decision: DENY, created: yesterday}]\n",
			field: "spec.reviews[0].created", msg: `"yesterday" is not a time like`},
		{name: "bad state", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, roles: [ops], state: DONE}\n",
			field: "spec.state", msg: `"DONE" is not one of PENDING, APPROVED, DENIED, EXPIRED, CANCELLED`, exact: true},
		{name: "duration in ISO-8601", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, roles: [ops], duration: PT4H}\n",
			field: "spec.duration", msg: `"PT4H" is an ISO-8601 duration; write this one in Go's form`},
		{name: "user missing", doc: "kind: access_request\nmetadata: {}\nspec: {roles: [ops]}\n",
			field: "spec.user", msg: "required", exact: true},
		{name: "bad name", doc: "kind: access_request\nmetadata: {name: \"req 1\"}\nspec: {user: alice, roles: [ops]}\n",
			field: "metadata.name", msg: `"req 1" is not a valid name`},
		{name: "start is a list", doc: "kind: access_request\nmetadata: {}\nspec: {user: alice, roles: [ops], start: [2026-01-02]}\n",
			field: "spec.start", msg: "must be a time like 2026-01-02T15:04:05Z, found a list", exact: true},
		{name: "unknown field in review", doc: "kind: access_request\nmetadata: {}\nspec:\n  user: alice\n  roles: [ops]\n  reviews: [{author: bob, verdict: APPROVE}]\n",
			field: "spec.reviews[0].verdict", msg: "unknown field (known fields here: author, created, decision, reason, token_issuer)", exact: true},
	},
	resource.KindPermissionSet: {
		{name: "name of 33 characters", doc: "kind: permission_set\nmetadata: {name: " + strings.Repeat("P", 33) + "}\n",
			field: "metadata.name", msg: `"` + strings.Repeat("P", 33) + `" is not a permission set name: 1-32 letters, digits or _+=,.@-`, exact: true},
		{name: "name with a space", doc: "kind: permission_set\nmetadata: {name: Admin Access}\n",
			field: "metadata.name", msg: `"Admin Access" is not a permission set name: 1-32 letters`},
		{name: "name missing", doc: "kind: permission_set\nmetadata: {}\n",
			field: "metadata.name", msg: "required", exact: true},
		{name: "malformed ARN", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {arn: \"arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-short\"}\n",
			field: "spec.arn", msg: `"arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-short" is a malformed permission set ARN`},
		{name: "ARN in an unknown partition", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {arn: \"arn:aws-mars:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef\"}\n",
			field: "spec.arn", msg: "is a malformed permission set ARN (want arn:aws:sso:::permissionSet/"},
		{name: "session duration in Go's form", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: 8h}\n",
			field: "spec.session_duration", msg: `"8h" is not an ISO-8601 duration like PT8H; AWS wants ISO-8601 here, like PT8H`, exact: true},
		{name: "session duration in words", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: eight hours}\n",
			field: "spec.session_duration", msg: `"eight hours" is not an ISO-8601 duration like PT8H`, exact: true},
		{name: "session duration too short", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: PT30M}\n",
			field: "spec.session_duration", msg: `"PT30M" is outside PT1H..PT12H`, exact: true},
		{name: "session duration too long", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: PT13H}\n",
			field: "spec.session_duration", msg: `"PT13H" is outside PT1H..PT12H`, exact: true},
		{name: "session duration whose components overflow", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: P99999999999999999999Y99999999999999999999MT8H}\n",
			field: "spec.session_duration", msg: `"P99999999999999999999Y99999999999999999999MT8H" is outside PT1H..PT12H`, exact: true},
		{name: "session duration of 10^20 hours", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: PT100000000000000000000H}\n",
			field: "spec.session_duration", msg: `"PT100000000000000000000H" is outside PT1H..PT12H`, exact: true},
		{name: "session duration with hours twice", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: PT8HT1H}\n",
			field: "spec.session_duration", msg: `"PT8HT1H" is not an ISO-8601 duration like PT8H`, exact: true},
		{name: "session duration of nothing", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: PT}\n",
			field: "spec.session_duration", msg: `"PT" is not an ISO-8601 duration like PT8H`, exact: true},
		{name: "session duration of a day", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: P1D}\n",
			field: "spec.session_duration", msg: `"P1D" is outside PT1H..PT12H`, exact: true},
		{name: "session duration is a list", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session_duration: [PT8H]}\n",
			field: "spec.session_duration", msg: "must be a string, found a list", exact: true},
		{name: "description too long", doc: "kind: permission_set\nmetadata: {name: Admin, description: " + strings.Repeat("d", 701) + "}\n",
			field: "metadata.description", msg: "a permission set description is at most 700 characters", exact: true},
		{name: "relay state too long", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {relay_state: " + strings.Repeat("r", 241) + "}\n",
			field: "spec.relay_state", msg: "is 241 characters long; at most 240", exact: true},
		{name: "inline policy not JSON", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {inline_policy: \"Version: 2012-10-17\"}\n",
			field: "spec.inline_policy", msg: "is not a JSON policy document"},
		{name: "inline policy is a mapping", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {inline_policy: {Version: \"2012-10-17\"}}\n",
			field: "spec.inline_policy", msg: "must be a string, found a mapping", exact: true},
		{name: "bad managed policy", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {managed_policies: [ReadOnlyAccess]}\n",
			field: "spec.managed_policies[0]", msg: `"ReadOnlyAccess" is not an AWS managed policy ARN like arn:aws:iam::aws:policy/ReadOnlyAccess`, exact: true},
		{name: "customer managed policy", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {managed_policies: [\"arn:aws:iam::058264527036:policy/Mine\"]}\n",
			field: "spec.managed_policies[0]", msg: "is not an AWS managed policy ARN"},
		{name: "duplicate managed policy", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {managed_policies: [\"arn:aws:iam::aws:policy/ReadOnlyAccess\", \"arn:aws:iam::aws:policy/ReadOnlyAccess\"]}\n",
			field: "spec.managed_policies[1]", msg: `"arn:aws:iam::aws:policy/ReadOnlyAccess" is listed twice (also at [0])`, exact: true},
		{name: "21 managed policies", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec:\n  managed_policies:\n" + policies(21),
			field: "spec.managed_policies", msg: "21 policies; a permission set holds at most 20", exact: true},
		{name: "managed is a string", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {managed: \"true\"}\n",
			field: "spec.managed", msg: `must be true or false, found the string "true"`, exact: true},
		{name: "unknown spec field", doc: "kind: permission_set\nmetadata: {name: Admin}\nspec: {session: PT8H}\n",
			field: "spec.session", msg: "unknown field (known fields here: arn, inline_policy, managed, managed_policies, relay_state, session_duration)", exact: true},
	},
	resource.KindAccount: {
		{name: "name not 12 digits", doc: "kind: account\nmetadata: {name: \"12345\"}\nspec: {name: Production}\n",
			field: "metadata.name", msg: `"12345" is not a 12-digit account id`, exact: true},
		{name: "name is an account name", doc: "kind: account\nmetadata: {name: Production}\nspec: {name: Production}\n",
			field: "metadata.name", msg: `"Production" is not a 12-digit account id`, exact: true},
		{name: "spec name missing", doc: "kind: account\nmetadata: {name: \"058264527036\"}\n",
			field: "spec.name", msg: "required: the account's name", exact: true},
		{name: "spec name of digits", doc: "kind: account\nmetadata: {name: \"058264527036\"}\nspec: {name: 2024}\n",
			field: "spec.name", msg: `"2024": an account name of digits only cannot be told from an account id`, exact: true},
		{name: "spec name not ASCII", doc: "kind: account\nmetadata: {name: \"058264527036\"}\nspec: {name: Prödüction}\n",
			field: "spec.name", msg: `"Prödüction" is not an account name: 1-50 printable ASCII characters`, exact: true},
		{name: "bad email", doc: "kind: account\nmetadata: {name: \"058264527036\"}\nspec: {name: Production, email: aws at example.com}\n",
			field: "spec.email", msg: `"aws at example.com" is not an email address`},
		{name: "bad status", doc: "kind: account\nmetadata: {name: \"058264527036\"}\nspec: {name: Production, status: CLOSED}\n",
			field: "spec.status", msg: `"CLOSED" is not one of ACTIVE, SUSPENDED, PENDING_CLOSURE`, exact: true},
		{name: "status is a number", doc: "kind: account\nmetadata: {name: \"058264527036\"}\nspec: {name: Production, status: 1}\n",
			field: "spec.status", msg: `"1" is not one of ACTIVE`},
	},
}

func policies(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("    - arn:aws:iam::aws:policy/P" + strings.Repeat("x", i+1) + "\n")
	}
	return b.String()
}

func TestDecodeAllRejects(t *testing.T) {
	total := 0
	for kind, cases := range badInputs {
		for _, tc := range cases {
			total++
			t.Run(string(kind)+"/"+tc.name, func(t *testing.T) {
				objs, err := resource.DecodeAll("test.yaml", []byte(tc.doc))
				if err == nil {
					t.Fatalf("DecodeAll accepted the document (%d objects); want %s: %s\n%s", len(objs), tc.field, tc.msg, tc.doc)
				}
				if objs != nil {
					t.Errorf("DecodeAll returned %d objects with its error; want none", len(objs))
				}
				var de *resource.DocumentError
				if !errors.As(err, &de) {
					t.Fatalf("error %T %q is not a *DocumentError", err, err)
				}
				if de.Source != "test.yaml" || de.Doc != 1 {
					t.Errorf("DocumentError names %q document %d; want test.yaml document 1", de.Source, de.Doc)
				}
				fe := resource.First(err)
				if fe == nil {
					t.Fatalf("First(%q) = nil; want a field error on %s", err, tc.field)
				}
				if fe.Field != tc.field {
					t.Errorf("first error is on field %q; want %q (error: %v)", fe.Field, tc.field, err)
				}
				if tc.exact && fe.Message != tc.msg {
					t.Errorf("first error message\n got: %s\nwant: %s", fe.Message, tc.msg)
				} else if !strings.Contains(fe.Message, tc.msg) {
					t.Errorf("first error message\n got: %s\nwant it to contain: %s", fe.Message, tc.msg)
				}
				if !strings.Contains(err.Error(), fe.Error()) {
					t.Errorf("err.Error() %q does not contain the first field error %q", err.Error(), fe.Error())
				}
			})
		}
	}
	if total < 100 {
		t.Errorf("only %d bad inputs; the table lost cases", total)
	}
}

func TestValidateEnvelope(t *testing.T) {
	tests := []struct {
		name  string
		obj   *resource.Object
		field string
		msg   string
	}{
		{"no kind", &resource.Object{Version: "v1", Metadata: resource.Metadata{Name: "x"}}, "kind", "required (one of " + knownKinds + ")"},
		{"unknown kind", &resource.Object{Kind: "robot", Version: "v1"}, "kind", `unknown kind "robot"`},
		{"no version", &resource.Object{Kind: resource.KindUser, Metadata: resource.Metadata{Name: "alice"}}, "version", `"" is not a supported version (use v1)`},
		{"nil spec is validated as empty", &resource.Object{Kind: resource.KindAccessList, Version: "v1", Metadata: resource.Metadata{Name: "eng"}}, "spec.title", "required"},
		{"label value too long", &resource.Object{Kind: resource.KindUser, Version: "v1",
			Metadata: resource.Metadata{Name: "alice", Labels: map[string]string{"team": strings.Repeat("v", 257)}}},
			"metadata.labels.team", "label value is 257 bytes long; at most 256"},
		{"api token without user", &resource.Object{Kind: resource.KindAPIToken, Version: "v1", Metadata: resource.Metadata{Name: "tok"},
			Spec: &resource.APITokenSpec{SecretHash: "h"}}, "spec.user", "required"},
		{"api token without hash", &resource.Object{Kind: resource.KindAPIToken, Version: "v1", Metadata: resource.Metadata{Name: "tok"},
			Spec: &resource.APITokenSpec{User: "alice"}}, "spec.secret_hash", "required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := resource.Validate(tc.obj)
			fe := resource.First(err)
			if fe == nil {
				t.Fatalf("Validate = %v; want an error on %s", err, tc.field)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Message, tc.msg) {
				t.Errorf("Validate: first error %q: %q; want %q containing %q", fe.Field, fe.Message, tc.field, tc.msg)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	doc := role("    account_assignments:\n      - {account: \"12345\", permission_set: \"Admin Access\"}\n    request: {max_duration: PT8H, thresholds: [{approve: 0}]}\n")
	_, err := resource.DecodeAll("", []byte(doc))
	var es resource.Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v does not hold resource.Errors", err)
	}
	want := []string{
		"spec.allow.account_assignments[0].account",
		"spec.allow.account_assignments[0].permission_set",
		"spec.allow.request.max_duration",
		"spec.allow.request.thresholds[0].approve",
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Field)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fields in order = %v; want %v", got, want)
	}
	if !strings.HasSuffix(es.Error(), "(and 3 more problems)") {
		t.Errorf("Errors.Error() = %q; want it to end with (and 3 more problems)", es.Error())
	}
}

func TestErrorsAndFirst(t *testing.T) {
	one := &resource.FieldError{Field: "spec.a", Message: "bad"}
	two := &resource.FieldError{Field: "spec.b", Message: "worse"}
	bare := &resource.FieldError{Message: "just bad"}
	tests := []struct {
		name      string
		err       error
		wantText  string
		wantFirst *resource.FieldError
	}{
		{"no errors", resource.Errors{}, "no errors", nil},
		{"one error", resource.Errors{one}, "spec.a: bad", one},
		{"two errors", resource.Errors{one, two}, "spec.a: bad (and 1 more problems)", one},
		{"field error alone", one, "spec.a: bad", one},
		{"field error without field", bare, "just bad", bare},
		{"wrapped in a document error", &resource.DocumentError{Source: "f.yaml", Doc: 2, Err: resource.Errors{two, one}}, "f.yaml: document 2: spec.b: worse (and 1 more problems)", two},
		{"plain error", errors.New("boom"), "boom", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.wantText {
				t.Errorf("Error() = %q; want %q", got, tc.wantText)
			}
			got := resource.First(tc.err)
			if got != tc.wantFirst {
				t.Errorf("First = %v; want %v", got, tc.wantFirst)
			}
		})
	}
	if resource.First(nil) != nil {
		t.Errorf("First(nil) != nil")
	}
}

func TestIsGlob(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"", false},
		{"dev", false},
		{"*", true},
		{"?", true},
		{"dev-*", true},
		{"a?c", true},
		{"arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef", false},
		{"[abc]", false}, // only * and ? are glob syntax
	}
	for _, tc := range tests {
		if got := resource.IsGlob(tc.s); got != tc.want {
			t.Errorf("IsGlob(%q) = %v; want %v", tc.s, got, tc.want)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		// exact
		{"dev", "dev", true},
		{"dev", "Dev", false},
		{"dev", "devs", false},
		{"devs", "dev", false},
		{"058264527036", "058264527036", true},
		// *
		{"*", "anything", true},
		{"*", "", true},
		{"**", "x", true},
		// ?
		{"?", "a", true},
		{"?", "", false},
		{"?", "ab", false},
		{"d?v", "dev", true},
		{"d?v", "dv", false},
		{"??", "ab", true},
		// prefix*
		{"Admin*", "AdministratorAccess", true},
		{"Admin*", "Admin", true},
		{"Admin*", "admin", false},
		{"Admin*", "ReadOnly", false},
		{"prod-*", "prod", false},
		// *suffix
		{"*-on-Production", "AdministratorAccess-on-Production", true},
		{"*-on-Production", "-on-Production", true},
		{"*-on-Production", "AdministratorAccess-on-Staging", false},
		{"*ab", "aab", true},
		{"*ab", "abab", true},
		{"*ab", "aba", false},
		// a*b*c
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "abcbc", true},
		{"a*b*c", "acb", false},
		{"a*b*c", "abcd", false},
		{"a*b*c", "xabc", false},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "bxa", false},
		{"a*?c", "abc", true},
		{"a*?c", "ac", false},
		// backtracking over a partial match
		{"*aab", "aaab", true},
		{"*abc*abd", "abcabcabd", true},
		{"*abc*abd", "abcabcabe", false},
		// stars and question marks as literal characters in the name
		{"Prod*", "Prod*", true},
		{"*x", "*ax", true},
		{"Prod*", "Prod*uction", true},
		{"a?c", "a?c", true},
		// empty strings
		{"", "", true},
		{"", "a", false},
		{"a", "", false},
		{"a*", "", false},
		{"*a", "", false},
	}
	for _, tc := range tests {
		if got := resource.MatchGlob(tc.pattern, tc.name); got != tc.want {
			t.Errorf("MatchGlob(%q, %q) = %v; want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}
