package passkeytest

import (
	"context"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// AddVirtualAuthenticator gives the chromedp tab of ctx Chromium's virtual authenticator (the
// DevTools WebAuthn domain): CTAP2.1, internal (a platform authenticator), resident keys, user
// verification that succeeds, presence confirmed at once.
func AddVirtualAuthenticator(ctx context.Context) (webauthn.AuthenticatorID, error) {
	return chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (webauthn.AuthenticatorID, error) {
		no := false
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{EnableUI: &no}); err != nil {
			return "", err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		return res.AuthenticatorID, err
	})
}

// VirtualCredentials lists the credentials the virtual authenticator id holds.
func VirtualCredentials(ctx context.Context, id webauthn.AuthenticatorID) ([]*webauthn.Credential, error) {
	return chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]*webauthn.Credential, error) {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		return res.Credentials, err
	})
}
