package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The `warden login` endpoints answer errors the OAuth way (RFC 6749 5.2, RFC 8628 3.5):
// {"error": "authorization_pending", "error_description": "..."}.

// OAuthError is such an error answer.
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// LoginToken is the token a login received.
type LoginToken struct {
	Token   string    `json:"token"`
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
	// Login is the flow: loopback or device.
	Login string `json:"login"`
}

// DeviceAuthorization is the start of a device login (RFC 8628 3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// postOAuth posts body to path without a token and decodes a 2xx answer into out, an OAuth error
// into *OAuthError.
func (c *Client) postOAuth(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Addr+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("warden at %s: %w", c.Addr, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the answer from %s: %w", c.Addr, err)
	}
	if resp.StatusCode >= 300 {
		e := &OAuthError{Status: resp.StatusCode}
		if json.Unmarshal(rb, e) != nil || e.Code == "" {
			return &Error{Status: resp.StatusCode, Message: fmt.Sprintf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(rb))}
		}
		return e
	}
	if err := json.Unmarshal(rb, out); err != nil {
		return fmt.Errorf("decoding the answer to POST %s: %w", path, err)
	}
	return nil
}

// ExchangeLoginCode trades a loopback login's code and PKCE verifier for a token
// (POST /v1/auth/cli/token).
func (c *Client) ExchangeLoginCode(ctx context.Context, code, verifier, redirectURI string) (*LoginToken, error) {
	var out LoginToken
	err := c.postOAuth(ctx, "/v1/auth/cli/token", map[string]string{"code": code, "code_verifier": verifier, "redirect_uri": redirectURI}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// StartDeviceLogin starts a device login (POST /v1/auth/device).
func (c *Client) StartDeviceLogin(ctx context.Context) (*DeviceAuthorization, error) {
	var out DeviceAuthorization
	if err := c.postOAuth(ctx, "/v1/auth/device", map[string]string{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PollDeviceLogin polls a device login once (POST /v1/auth/device/token): the token, or an
// *OAuthError such as authorization_pending or slow_down.
func (c *Client) PollDeviceLogin(ctx context.Context, deviceCode string) (*LoginToken, error) {
	var out LoginToken
	if err := c.postOAuth(ctx, "/v1/auth/device/token", map[string]string{"device_code": deviceCode}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
