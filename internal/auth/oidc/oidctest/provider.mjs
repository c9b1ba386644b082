// An OpenID Connect provider for the tests of warden's sign-in through OIDC: the npm package
// oidc-provider (9.x), which no one here wrote, driven over HTTP by the Go tests (package oidctest
// starts it with node; see oidctest.go).
//
// Environment:
//   OIDC_PROVIDER_MODULE  the oidc-provider package's directory (…/node_modules/oidc-provider)
//   ISSUER                the issuer URL (the tests' proxy in front of this server)
//   ACCOUNTS_FILE         JSON: account id -> claims; read at every use. The key "_amr", when
//                         present, is the list of authentication methods (RFC 8176) the provider
//                         says it used when the account signs in (the ID token's amr claim).
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
    // amr goes into the ID token with openid: the tests decide per account what the provider says.
    openid: ['sub', 'amr'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
    groups: ['groups', 'department'],
  },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['warden-tests-only'] },
  ttl: { IdToken: 3600, AccessToken: 3600, Interaction: 600, Session: 600, Grant: 600 },
  async findAccount(ctx, id) {
    const claims = account(id);
    if (!claims) {
      return undefined;
    }
    const { _amr, ...rest } = claims;
    return { accountId: id, async claims() { return { ...rest, sub: id }; } };
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

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 65536) {
        reject(new Error('body too large'));
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

// The development interactions' login form signs in any account; the login is finished here so
// that the account's "_amr" becomes the session's authentication methods (the ID token's amr).
const handler = provider.callback();
const server = createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && /^\/interaction\/[^/?]+$/.test(req.url)) {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        const form = new URLSearchParams(await readBody(req));
        const accountId = form.get('login') || '';
        const login = { accountId };
        const acc = account(accountId);
        if (acc && Array.isArray(acc._amr)) {
          login.amr = acc._amr;
        }
        await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
        return;
      }
    }
  } catch (err) {
    console.error('provider.mjs:', err);
    res.statusCode = 500;
    res.end('provider.mjs: ' + err.message);
    return;
  }
  handler(req, res);
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
