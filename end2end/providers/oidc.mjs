#!/usr/bin/env node
// A real OpenID Provider on loopback, for Gatehouse's social sign-in tests (issue 11).
//
// It is the certified `oidc-provider` library, not a mock: discovery, JWKS, PKCE, ID token
// signing, `prompt=login`/`max_age` and the RFC 9207 `iss` response parameter are its own.
// We only configure it for a first-party test client and a password-less test login.
//
//   node providers/oidc.mjs --port 0 --client ID:SECRET:REDIRECT_URI [--client ...]
//
// Prints exactly one line on stdout when ready:
//   OIDC provider listening on http://127.0.0.1:PORT
// and that URL (no trailing slash) is the issuer. Logs go to stderr.
//
// The login form is oidc-provider's "dev interaction": GET /interaction/UID shows a form
// (fields `login` and `password`, hidden `prompt=login`, button "Sign-in") that POSTs to
// /interaction/UID. Any password is accepted; the typed login becomes the `sub`, and also
// decides the email claims (see `claimsFor`). Consent is never asked (see `loadExistingGrant`).
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

/** Reads `--port N` and repeated `--client ID:SECRET:REDIRECT_URI`. */
function parseArgs(argv) {
  const out = { port: 0, clients: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i += 1;
    if (flag === '--port') {
      out.port = Number(value);
    } else if (flag === '--client') {
      // The redirect URI contains colons itself, so split off only the first two fields.
      const first = value.indexOf(':');
      const second = value.indexOf(':', first + 1);
      if (first < 0 || second < 0) throw new Error(`--client wants ID:SECRET:REDIRECT_URI, got ${value}`);
      out.clients.push({
        id: value.slice(0, first),
        secret: value.slice(first + 1, second),
        redirectUri: value.slice(second + 1),
      });
    } else {
      throw new Error(`unknown flag ${flag}`);
    }
  }
  return out;
}

/**
 * The claims the test controls through the login it types:
 * `alice` -> alice@example.test (verified), `bob@corp.test` -> bob@corp.test (verified),
 * `unverified:carol` -> carol@example.test with email_verified false, and
 * `noemail:dan` -> no email claims at all.
 */
export function claimsFor(login) {
  const unverified = login.startsWith('unverified:');
  const noEmail = login.startsWith('noemail:');
  const rest = login.slice(unverified || noEmail ? login.indexOf(':') + 1 : 0);
  const email = rest.includes('@') ? rest : `${rest}@example.test`;
  const handle = email.split('@')[0];
  return {
    sub: login,
    ...(noEmail ? {} : { email, email_verified: !unverified }),
    name: handle.charAt(0).toUpperCase() + handle.slice(1),
    preferred_username: handle,
  };
}

/** One fresh RS256 key per run, so no development key from the library is ever used. */
async function signingKeys() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { keys: [{ ...jwk, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }] };
}

/**
 * Grants `openid email profile` to the registered (first-party) client without a consent
 * screen: reuse the session's grant for this account when there is one, else make one.
 */
async function loadExistingGrant(ctx) {
  const { provider, client, session, account } = ctx.oidc;
  const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
  let grant = grantId ? await provider.Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== account.accountId) {
    grant = new provider.Grant({ clientId: client.clientId, accountId: account.accountId });
  }
  grant.addOIDCScope('openid email profile');
  await grant.save();
  return grant;
}

/**
 * The dev-interaction pages @import a Google web font; tests may only talk to loopback,
 * so strip that line before a browser ever sees it.
 */
async function offlinePages(ctx, next) {
  await next();
  if (typeof ctx.body === 'string' && ctx.type.startsWith('text/html')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.clients.length === 0) throw new Error('at least one --client is needed');

  // Listen first: with --port 0 the issuer URL is only known once the port is bound.
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: args.clients.map((c) => ({
      client_id: c.id,
      client_secret: c.secret,
      redirect_uris: [c.redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      require_auth_time: true,
    })),
    async findAccount(_ctx, id) {
      return { accountId: id, claims: async () => claimsFor(id) };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    responseTypes: ['code'],
    // Put the scope's claims in the ID token itself, as Gatehouse reads them from there.
    conformIdTokenClaims: false,
    loadExistingGrant,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
    },
    jwks: await signingKeys(),
    cookies: { keys: [randomBytes(32).toString('hex')] },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      IdToken: 3600,
      Grant: 3600,
      Interaction: 3600,
      Session: 3600,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      const text = Object.entries(out).map(([k, v]) => `<p><b>${k}</b>: ${String(v).replace(/[<>&"]/g, '')}</p>`);
      ctx.body = `<!DOCTYPE html><title>OIDC error</title><h1>OIDC error</h1>${text.join('')}`;
    },
  });
  provider.use(offlinePages);
  // Show what the provider refused in the log, which is what a failing test needs.
  for (const event of ['authorization.error', 'grant.error', 'server_error', 'userinfo.error']) {
    provider.on(event, (_ctx, err) => console.error(`${event}: ${err.message} ${err.error_description ?? ''}`));
  }

  server.on('request', provider.callback());
  console.log(`OIDC provider listening on ${issuer}`);

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
