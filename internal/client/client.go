// Package client is a Go client for warden's HTTP API, used by the CLI and by tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/awsconfig"
	"github.com/wardenhq/warden/internal/integration"
	"github.com/wardenhq/warden/internal/reconcile"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/server"
)

// Client talks to one warden server.
type Client struct {
	Addr  string // base URL, e.g. http://127.0.0.1:8420
	Token string
	HTTP  *http.Client
}

// New returns a client for addr (a URL, or host:port meaning http://host:port).
func New(addr, token string) *Client {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return &Client{Addr: strings.TrimRight(addr, "/"), Token: token, HTTP: &http.Client{Timeout: 5 * time.Minute}}
}

// Error is an error answer from the server.
type Error struct {
	Status   int
	Message  string                 `json:"error"`
	Field    string                 `json:"field"`
	Item     int                    `json:"item"`
	Kind     resource.Kind          `json:"kind"`
	Name     string                 `json:"name"`
	Problems []*resource.FieldError `json:"problems"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Do sends a request to path with body as JSON and decodes the answer into out.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	return c.do(ctx, method, path, body, out)
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Addr+path, rd)
	if err != nil {
		return err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("warden at %s: %w", c.Addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer from %s: %w", c.Addr, err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Message == "" {
			e.Message = fmt.Sprintf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decoding the answer to %s %s: %w", method, path, err)
		}
	}
	return nil
}

func kindPath(k resource.Kind, name string) string {
	p := "/v1/" + string(k)
	if name != "" {
		// Member names hold a slash, which stays a path separator; everything else is escaped.
		parts := strings.Split(name, "/")
		for i := range parts {
			parts[i] = url.PathEscape(parts[i])
		}
		p += "/" + strings.Join(parts, "/")
	}
	return p
}

// Get reads one object.
func (c *Client) Get(ctx context.Context, k resource.Kind, name string) (*resource.Object, error) {
	var o resource.Object
	if err := c.do(ctx, http.MethodGet, kindPath(k, name), nil, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// List reads every object of a kind passing the filters, following pages.
func (c *Client) List(ctx context.Context, k resource.Kind, filters map[string]string) ([]*resource.Object, error) {
	var all []*resource.Object
	after := ""
	for {
		q := url.Values{}
		for key, v := range filters {
			q.Set(key, v)
		}
		q.Set("limit", fmt.Sprint(server.MaxPageSize))
		if after != "" {
			q.Set("after", after)
		}
		var page server.ListResponse
		if err := c.do(ctx, http.MethodGet, kindPath(k, "")+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		after = page.Next
	}
}

// Create stores one new object and returns it as stored.
func (c *Client) Create(ctx context.Context, o *resource.Object) (*resource.Object, error) {
	var out resource.Object
	if err := c.do(ctx, http.MethodPost, kindPath(o.Kind, ""), o, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update replaces one object; o.Metadata.Revision must be the revision read.
func (c *Client) Update(ctx context.Context, o *resource.Object) (*resource.Object, error) {
	var out resource.Object
	if err := c.do(ctx, http.MethodPut, kindPath(o.Kind, o.Metadata.Name), o, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes one object; a non-zero revision must match.
func (c *Client) Delete(ctx context.Context, k resource.Kind, name string, revision int64) error {
	p := kindPath(k, name)
	if revision != 0 {
		p += fmt.Sprintf("?revision=%d", revision)
	}
	return c.do(ctx, http.MethodDelete, p, nil, nil)
}

// Batch creates ("create") or creates-or-updates ("apply") objects in one transaction.
func (c *Client) Batch(ctx context.Context, mode string, objs []*resource.Object) ([]server.BatchResult, error) {
	res, err := c.BatchResponse(ctx, mode, objs)
	if err != nil {
		return nil, err
	}
	return res.Results, nil
}

// BatchResponse is Batch with the warnings about what was written (a role naming an account that
// warden does not know, say).
func (c *Client) BatchResponse(ctx context.Context, mode string, objs []*resource.Object) (*server.BatchResponse, error) {
	items := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		b, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		items[i] = b
	}
	var out server.BatchResponse
	if err := c.do(ctx, http.MethodPost, "/v1/batch", server.BatchRequest{Mode: mode, Items: items}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateToken issues an API token acting as user.
func (c *Client) CreateToken(ctx context.Context, user, ttl string) (*server.TokenResponse, error) {
	var out server.TokenResponse
	if err := c.do(ctx, http.MethodPost, "/v1/tokens", server.TokenRequest{User: user, TTL: ttl}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Tokens lists API tokens (never their secrets), following pages: an administrator's listing holds
// everyone's or, with user, that user's; anyone else's only their own.
func (c *Client) Tokens(ctx context.Context, user string) ([]server.TokenInfo, error) {
	var all []server.TokenInfo
	after := ""
	for {
		q := url.Values{}
		if user != "" {
			q.Set("user", user)
		}
		if after != "" {
			q.Set("after", after)
		}
		var page server.TokenList
		if err := c.do(ctx, http.MethodGet, "/v1/tokens?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		after = page.Next
	}
}

// RevokeToken revokes the API token of this id.
func (c *Client) RevokeToken(ctx context.Context, id string) (*server.TokenInfo, error) {
	var out server.TokenInfo
	if err := c.do(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WhoAmI says whom the client's token acts for.
func (c *Client) WhoAmI(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	err := c.do(ctx, http.MethodGet, "/v1/whoami", nil, &out)
	return out, err
}

// SyncPlan asks the server for a sync plan (observing Identity Center afresh).
func (c *Client) SyncPlan(ctx context.Context, req server.SyncRequest) (*server.SyncPlanResponse, error) {
	var out server.SyncPlanResponse
	if err := c.do(ctx, http.MethodPost, "/v1/sync/plan", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SyncApply plans and applies; req.Force overrides the safety brake. A plan the brake refuses comes
// back with the error (status 409) and the plan.
func (c *Client) SyncApply(ctx context.Context, req server.SyncRequest) (*server.SyncPlanResponse, error) {
	var out server.SyncPlanResponse
	err := c.do(ctx, http.MethodPost, "/v1/sync/apply", req, &out)
	return &out, err
}

// SyncStatus reads the sync engine's status.
func (c *Client) SyncStatus(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	err := c.do(ctx, http.MethodGet, "/v1/sync/status", nil, &out)
	return out, err
}

// Preview says what an import from Identity Center would bring.
func (c *Client) Preview(ctx context.Context) (*server.PreviewResponse, error) {
	var out server.PreviewResponse
	err := c.do(ctx, http.MethodGet, "/v1/integration/preview", nil, &out)
	return &out, err
}

// Audit reads the audit log (administrators): entries since a time, by an actor, about a kind.
func (c *Client) Audit(ctx context.Context, since, actor, kind string) ([]*resource.AuditEntrySpec, error) {
	return c.AuditFiltered(ctx, map[string]string{"since": since, "actor": actor, "kind": kind})
}

// AuditFiltered reads the audit log's entries matching the filters: since, actor, kind, token.
func (c *Client) AuditFiltered(ctx context.Context, filters map[string]string) ([]*resource.AuditEntrySpec, error) {
	q := url.Values{}
	for k, v := range filters {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out []*resource.AuditEntrySpec
	err := c.do(ctx, http.MethodGet, "/v1/audit?"+q.Encode(), nil, &out)
	return out, err
}

// AuditVerify checks the audit log's hash chain.
func (c *Client) AuditVerify(ctx context.Context) (*server.AuditVerifyResponse, error) {
	return c.AuditVerifyHead(ctx, "")
}

// AuditVerifyHead checks the audit log's hash chain and, with expectHead (SEQ:HASH, as AuditHead
// gave it earlier), that the log still holds that entry with that hash.
func (c *Client) AuditVerifyHead(ctx context.Context, expectHead string) (*server.AuditVerifyResponse, error) {
	path := "/v1/audit/verify"
	if expectHead != "" {
		path += "?" + url.Values{"expect_head": {expectHead}}.Encode()
	}
	var out server.AuditVerifyResponse
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return &out, err
}

// AuditHead reads where the audit log ends, for export.
func (c *Client) AuditHead(ctx context.Context) (*server.AuditHeadResponse, error) {
	var out server.AuditHeadResponse
	err := c.do(ctx, http.MethodGet, "/v1/audit/head", nil, &out)
	return &out, err
}

// ListReview records a periodic review of a list.
func (c *Client) ListReview(ctx context.Context, list string, in server.ListReview) (*resource.Object, error) {
	var out resource.Object
	if err := c.do(ctx, http.MethodPost, "/v1/access/lists/"+url.PathEscape(list)+"/review", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Lists lists access lists; reviewDue keeps those whose periodic review is due.
func (c *Client) Lists(ctx context.Context, reviewDue bool) ([]*resource.Object, error) {
	path := "/v1/access/lists"
	if reviewDue {
		path += "?review_due=true"
	}
	var out []*resource.Object
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// MemberAdd adds a member to an access list (its owners and administrators may).
func (c *Client) MemberAdd(ctx context.Context, list string, in server.MemberAdd) (*resource.Object, error) {
	var out resource.Object
	if err := c.do(ctx, http.MethodPost, "/v1/access/lists/"+url.PathEscape(list)+"/members", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MemberRemove removes a member (kind "user" or "list") from an access list.
func (c *Client) MemberRemove(ctx context.Context, list, member, kind string) error {
	return c.do(ctx, http.MethodDelete, "/v1/access/lists/"+url.PathEscape(list)+"/members/"+url.PathEscape(member)+"?kind="+url.QueryEscape(kind), nil, nil)
}

// Members lists an access list's members.
func (c *Client) Members(ctx context.Context, list string) ([]*resource.Object, error) {
	var out []*resource.Object
	err := c.do(ctx, http.MethodGet, "/v1/access/lists/"+url.PathEscape(list)+"/members", nil, &out)
	return out, err
}

// RequestCreate asks for access as the token's user.
func (c *Client) RequestCreate(ctx context.Context, in server.RequestCreate) (*server.RequestResponse, error) {
	var out server.RequestResponse
	err := c.do(ctx, http.MethodPost, "/v1/access/requests", in, &out)
	return &out, err
}

// RequestReview approves or denies a request.
func (c *Client) RequestReview(ctx context.Context, id string, in server.RequestReview) (*server.RequestResponse, error) {
	var out server.RequestResponse
	err := c.do(ctx, http.MethodPost, "/v1/access/requests/"+url.PathEscape(id)+"/review", in, &out)
	return &out, err
}

// RequestEnd cancels (as the requester) or revokes (as an administrator) a request: how is
// "cancel" or "revoke".
func (c *Client) RequestEnd(ctx context.Context, id, how string) (*server.RequestResponse, error) {
	var out server.RequestResponse
	err := c.do(ctx, http.MethodPost, "/v1/access/requests/"+url.PathEscape(id)+"/"+how, struct{}{}, &out)
	return &out, err
}

// Requests lists requests: state filters by state; mine keeps the token user's own; toReview
// keeps the pending ones the token's user may review.
func (c *Client) Requests(ctx context.Context, state string, mine, toReview bool) ([]*resource.Object, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if mine {
		q.Set("mine", "true")
	}
	if toReview {
		q.Set("to_review", "true")
	}
	q.Set("limit", fmt.Sprint(server.MaxPageSize))
	var all []*resource.Object
	for {
		var page server.ListResponse
		if err := c.do(ctx, http.MethodGet, "/v1/access/requests?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		q.Set("after", page.Next)
	}
}

// Request reads one request.
func (c *Client) Request(ctx context.Context, id string) (*resource.Object, error) {
	var out resource.Object
	if err := c.do(ctx, http.MethodGet, "/v1/access/requests/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Uninstall removes what warden made in Identity Center and stops the sync (only the plan with dryRun).
func (c *Client) Uninstall(ctx context.Context, deleteGroups, dryRun bool) (*reconcile.UninstallPlan, error) {
	var out reconcile.UninstallPlan
	err := c.do(ctx, http.MethodPost, "/v1/integration/uninstall", server.UninstallRequest{DeleteGroups: deleteGroups, DryRun: dryRun}, &out)
	return &out, err
}

// Import imports Identity Center with the given default owners.
func (c *Client) Import(ctx context.Context, owners []string) (map[string]any, error) {
	var out map[string]any
	err := c.do(ctx, http.MethodPost, "/v1/integration/import", server.ImportRequest{DefaultOwners: owners}, &out)
	return out, err
}

// Invite makes a one-time enrolment link for user (administrators).
func (c *Client) Invite(ctx context.Context, user string) (*server.InviteResponse, error) {
	var out server.InviteResponse
	if err := c.do(ctx, http.MethodPost, "/v1/auth/invites", server.InviteRequest{User: user}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Unlock lifts user's sign-in lock (administrators).
func (c *Client) Unlock(ctx context.Context, user string) error {
	return c.do(ctx, http.MethodPost, "/v1/auth/unlock", server.UnlockRequest{User: user}, nil)
}

// AWSConfig reads the caller's AWS CLI configuration (GET /v1/me/aws-config; query: requestable,
// session_name, name_template, region, output).
func (c *Client) AWSConfig(ctx context.Context, query url.Values) (*awsconfig.Config, error) {
	var out awsconfig.Config
	path := "/v1/me/aws-config"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SCIMTokenStatus says how the sync writes Identity Center's directory and which SCIM tokens it
// holds.
func (c *Client) SCIMTokenStatus(ctx context.Context) (*server.SCIMTokenStatus, error) {
	var out server.SCIMTokenStatus
	err := c.do(ctx, http.MethodGet, "/v1/integration/scim-token", nil, &out)
	return &out, err
}

// SetSCIMToken gives warden a new SCIM token of Identity Center's (tried first from now on).
func (c *Client) SetSCIMToken(ctx context.Context, req server.SCIMTokenSet) (*integration.SCIMTokenInfo, error) {
	var out integration.SCIMTokenInfo
	err := c.do(ctx, http.MethodPut, "/v1/integration/scim-token", req, &out)
	return &out, err
}

// SCIMTest checks the connection to Identity Center's SCIM endpoint.
func (c *Client) SCIMTest(ctx context.Context) (*server.SCIMTestResult, error) {
	var out server.SCIMTestResult
	err := c.do(ctx, http.MethodPost, "/v1/integration/scim-test", nil, &out)
	return &out, err
}
