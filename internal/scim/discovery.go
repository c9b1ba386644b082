package scim

import (
	"net/http"
)

// spConfig is GET /ServiceProviderConfig: what warden supports.
func spConfig(r *http.Request) map[string]any {
	return map[string]any{
		"schemas":          []string{SchemaSPConfig},
		"documentationUri": "https://github.com/wardenhq/warden/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": MaxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "The connector's token, made by warden scim token create <connector>",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": baseURL(r) + "/ServiceProviderConfig"},
	}
}

func attr(name, typ string, multi, required bool, mutability, uniqueness string, caseExact bool, sub ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": multi, "required": required,
		"caseExact": caseExact, "mutability": mutability, "returned": "default", "uniqueness": uniqueness}
	if len(sub) > 0 {
		a["subAttributes"] = sub
	}
	return a
}

func schemaDocs(base string) []map[string]any {
	user := map[string]any{
		"schemas": []string{SchemaSchema}, "id": SchemaUser, "name": "User", "description": "A person warden governs",
		"attributes": []map[string]any{
			attr("userName", "string", false, true, "readWrite", "server", false),
			attr("externalId", "string", false, false, "readWrite", "none", true),
			attr("displayName", "string", false, false, "readWrite", "none", false),
			attr("name", "complex", false, false, "readWrite", "none", false,
				attr("givenName", "string", false, false, "readWrite", "none", false),
				attr("familyName", "string", false, false, "readWrite", "none", false),
				attr("formatted", "string", false, false, "readWrite", "none", false)),
			attr("emails", "complex", true, false, "readWrite", "none", false,
				attr("value", "string", false, false, "readWrite", "none", false),
				attr("type", "string", false, false, "readWrite", "none", false),
				attr("primary", "boolean", false, false, "readWrite", "none", false)),
			attr("active", "boolean", false, false, "readWrite", "none", false),
			attr("groups", "complex", true, false, "readOnly", "none", false,
				attr("value", "string", false, false, "readOnly", "none", true),
				attr("display", "string", false, false, "readOnly", "none", false)),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + SchemaUser},
	}
	group := map[string]any{
		"schemas": []string{SchemaSchema}, "id": SchemaGroup, "name": "Group", "description": "An access list (or a user trait) the identity provider keeps the members of",
		"attributes": []map[string]any{
			attr("displayName", "string", false, true, "readWrite", "server", false),
			attr("externalId", "string", false, false, "readWrite", "none", true),
			attr("members", "complex", true, false, "readWrite", "none", false,
				attr("value", "string", false, false, "immutable", "none", true),
				attr("display", "string", false, false, "readOnly", "none", false),
				attr("type", "string", false, false, "immutable", "none", false)),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + SchemaGroup},
	}
	return []map[string]any{user, group}
}

func (s *Service) schemas(w http.ResponseWriter, r *http.Request, id string) {
	s.serveDocs(w, r, schemaDocs(baseURL(r)), id, "schema")
}

// serveDocs answers a discovery endpoint: every document as a list, or the one of that id.
func (s *Service) serveDocs(w http.ResponseWriter, r *http.Request, docs []map[string]any, id, what string) {
	if id == "" {
		writeJSON(w, http.StatusOK, listResponse(docs, len(docs), 1))
		return
	}
	for _, d := range docs {
		if d["id"] == id {
			writeJSON(w, http.StatusOK, d)
			return
		}
	}
	s.fail(w, r, errorf(http.StatusNotFound, "", "no %s %q", what, id))
}

func (s *Service) resourceTypes(w http.ResponseWriter, r *http.Request, id string) {
	base := baseURL(r)
	docs := []map[string]any{
		{"schemas": []string{SchemaResourceType}, "id": "User", "name": "User", "endpoint": "/Users", "schema": SchemaUser,
			"schemaExtensions": []map[string]any{{"schema": SchemaEnterprise, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"}},
		{"schemas": []string{SchemaResourceType}, "id": "Group", "name": "Group", "endpoint": "/Groups", "schema": SchemaGroup,
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"}},
	}
	s.serveDocs(w, r, docs, id, "resource type")
}

// listResponse is a page of resources.
func listResponse[T any](items []T, total, start int) map[string]any {
	if items == nil {
		items = []T{}
	}
	return map[string]any{"schemas": []string{SchemaListResponse}, "totalResults": total, "startIndex": start,
		"itemsPerPage": len(items), "Resources": items}
}
