// An OpenID Connect provider for the connector's tests: the npm package oidc-provider (9.x), which
// no one here wrote, configured below and driven by the Go tests over HTTP. The tests start it with
// node; see provider_test.go for how it is found and installed.
//
// Environment:
//   OIDC_PROVIDER_MODULE  the oidc-provider package's directory (…/node_modules/oidc-provider)
//   ISSUER                the issuer URL (the tests' proxy in front of this server)
//   ACCOUNTS_FILE         JSON: account id -> claims; read at every use, so a test changes a
//                         person's claims between two sign-ins by rewriting it
//   CLIENTS               JSON: [{id, secret, redirect}]
// It prints "listening <port>" once it serves on 127.0.0.1.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`provider.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const modulePath = join(env('OIDC_PROVIDER_MODULE'), 'lib', 'index.js');
const { default: Provider } = await import(pathToFileURL(modulePath).href);
const accountsFile = env('ACCOUNTS_FILE');
const clients = JSON.parse(env('CLIENTS'));

function account(id) {
  const all = JSON.parse(readFileSync(accountsFile, 'utf8'));
  return Object.hasOwn(all, id) ? all[id] : undefined;
}

const provider = new Provider(env('ISSUER'), {
  clients: clients.map((c) => ({
    client_id: c.id,
    client_secret: c.secret,
    redirect_uris: [c.redirect],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
    groups: ['groups', 'department'],
  },
  // The scopes' claims go into the ID token (as Okta, Entra ID, Google and Keycloak put them), not
  // only to the userinfo endpoint.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['warden-tests-only'] },
  ttl: { IdToken: 3600, AccessToken: 3600, Interaction: 600, Session: 600, Grant: 600 },
  async findAccount(ctx, id) {
    const claims = account(id);
    if (!claims) {
      return undefined;
    }
    return { accountId: id, async claims() { return { ...claims, sub: id }; } };
  },
  // Consent is not what these tests are about: the grant of the scopes asked for is made at sign-in.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    if (grantId) {
      return oidc.provider.Grant.find(grantId);
    }
    const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
    grant.addOIDCScope(oidc.params.scope);
    await grant.save();
    return grant;
  },
});

const server = createServer(provider.callback());
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
