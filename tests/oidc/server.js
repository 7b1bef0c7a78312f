// A real OpenID Connect provider for the single sign-on tests: panva's oidc-provider (an
// OpenID-certified implementation), on loopback, with its own sign-in and consent pages.
//
//   node server.js <port> <accounts.json>
//
// The issuer is http://127.0.0.1:<port>. Clients register themselves (dynamic client
// registration, POST /reg), as each test's app has a redirect URI of its own. Accounts are
// read afresh from the JSON file at every sign-in, so that a test can change them while the
// provider runs: {"<sub>": {"claims": {"email": "..."}}} (and the levers below).
// The login form's "login" is the account's id (any password is accepted there).
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const [port, accountsFile] = process.argv.slice(2);
if (!port || !accountsFile) {
  console.error('usage: node server.js <port> <accounts.json>');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

function accounts() {
  return JSON.parse(readFileSync(accountsFile, 'utf8'));
}

const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`;

const provider = new Provider(issuer, {
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  // The claims asked for by scope go in the ID token, as Entra ID and Keycloak put them.
  conformIdTokenClaims: false,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: {
    registration: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out of the test provider?', `${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('You have signed out of the test provider', '');
      },
    },
  },
  // Every client must use PKCE, so that a client that forgot it is refused here.
  pkce: { required: () => true },
});

// The levers beyond the protocol, for the tests of what the app must refuse. An account
// marked "id_token_for" gets its ID token made out to another registered client, and one
// marked "id_token_expired_ago" (seconds) an ID token already expired: both signed with
// this provider's key as usual, as a mixed-up provider, a token taken from another
// application or a provider with a wrong clock would give them.
const { issue } = provider.IdToken.prototype;
provider.IdToken.prototype.issue = async function issueFor(options) {
  const account = accounts()[this.available?.sub] ?? {};
  if (options?.use !== 'idtoken') return issue.call(this, options);
  if (account.id_token_for) this.client = await provider.Client.find(account.id_token_for);
  if (account.id_token_expired_ago) {
    const expiresAt = Math.floor(Date.now() / 1000) - account.id_token_expired_ago;
    return issue.call(this, { ...options, expiresAt });
  }
  return issue.call(this, options);
};

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening at ${issuer}`);
});
