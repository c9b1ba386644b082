package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/wardenhq/warden/internal/server"
)

// Sessions lists browser sessions (never their secrets): the caller's own; an administrator's,
// with user, that user's, or with all, everyone's.
func (c *Client) Sessions(ctx context.Context, user string, all bool) ([]server.SessionInfo, error) {
	q := url.Values{}
	if user != "" {
		q.Set("user", user)
	}
	if all {
		q.Set("all", "true")
	}
	var out server.SessionList
	if err := c.do(ctx, http.MethodGet, "/v1/sessions?"+q.Encode(), nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// RevokeSession ends the browser session of this id.
func (c *Client) RevokeSession(ctx context.Context, id string) (*server.SessionInfo, error) {
	var out server.SessionInfo
	if err := c.do(ctx, http.MethodDelete, "/v1/sessions/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeAllSessions ends every browser session of the caller ("sign out everywhere") or, for an
// administrator, of user.
func (c *Client) RevokeAllSessions(ctx context.Context, user string) (*server.SessionsRevoked, error) {
	q := url.Values{}
	if user != "" {
		q.Set("user", user)
	}
	var out server.SessionsRevoked
	if err := c.do(ctx, http.MethodPost, "/v1/sessions/revoke-all?"+q.Encode(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
