#!/usr/bin/env node
// Stand-ins, on one loopback port, for the identity providers Gatehouse's tests cannot
// reach offline, plus an OpenID issuer that misbehaves on request (issue 11).
//
//   node providers/standin.mjs --port 0 --github ID:SECRET[:REDIRECT_URI]
//        --facebook ID:SECRET[:REDIRECT_URI] --tamper-client ID:SECRET[:REDIRECT_URI]
//
// Each flag may repeat. With a REDIRECT_URI the authorize step refuses any other one (as the
// real providers do with registered callbacks); without it any redirect_uri is accepted, and
// the token step still requires the same one. Prints exactly one line on stdout when ready:
//   Stand-in providers listening on http://127.0.0.1:PORT
// Logs one line per request on stderr. Node built-ins only, plus `jose` (from oidc-provider).
//
// The test controls who signs in through the `login` it types or appends to the authorize
// URL: `alice` has the address alice@example.test, `bob@corp.test` has bob@corp.test, a
// `unverified:` prefix (`unverified:carol`) makes that address unverified, and a `noemail:`
// prefix leaves the account without one (GitHub: no primary entry in /user/emails, which
// real GitHub never does; Facebook: no `email`; tamper: no email claims). Ids are stable per
// typed login. Codes are single-use and live 10 minutes. Every authorize page is a GET form
// titled "Authorize Gatehouse" with a text field labelled "Login" and the buttons
// "Authorize" and "Cancel" (Cancel = the user denies access).
//
// GitHub, under /github (OAuth app web flow):
//   https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
//   - GET  /github/login/oauth/authorize: client_id, redirect_uri (must match the registered
//     callback), scope, state, code_challenge + code_challenge_method (S256 only; `plain` is
//     refused as GitHub documents). Deny redirects with error=access_denied.
//     Divergence: on a redirect_uri mismatch GitHub redirects to the *registered* callback
//     with error=redirect_uri_mismatch; we show an error page and redirect nowhere.
//   - POST /github/login/oauth/access_token: answers JSON only for `Accept: application/json`,
//     else application/x-www-form-urlencoded. Errors are HTTP 200 with an `error` field:
//     https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors
//     (incorrect_client_credentials, redirect_uri_mismatch, bad_verification_code; a PKCE
//     mismatch is not documented and also answers bad_verification_code). Granted scopes
//     come back comma-separated ("read:user,user:email").
//   - GET /github/api/user and /github/api/user/emails, Bearer (or `token`) auth, 401
//     "Bad credentials" otherwise; a request without User-Agent is refused with 403:
//     https://docs.github.com/en/rest/users/users#get-the-authenticated-user
//     https://docs.github.com/en/rest/users/emails#list-email-addresses-for-the-authenticated-user
//     https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api#user-agent
//     /user has `"email": null` (a private address is not shown there); /user/emails needs
//     the user:email scope (404 otherwise) and lists a non-primary address *first*, so a
//     client must pick the `primary` entry rather than the first.
//
// Facebook, under /facebook (manual login flow, Graph API v19.0):
//   https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
//   - GET /facebook/dialog/oauth (also /facebook/vNN.N/dialog/oauth): client_id,
//     redirect_uri, state, scope, response_type=code, code_challenge(+_method). Deny
//     redirects with error=access_denied&error_reason=user_denied.
//   - GET or POST /facebook/v19.0/oauth/access_token -> {access_token, token_type,
//     expires_in}; errors are Graph API errors, HTTP 400 {"error":{message, type:
//     "OAuthException", code, error_subcode?, fbtrace_id}}:
//     https://developers.facebook.com/docs/graph-api/guides/error-handling
//   - GET /facebook/v19.0/me?fields=id,name,email&access_token=..&appsecret_proof=..; the
//     app "requires app secret proof", so a missing or wrong proof is refused:
//     https://developers.facebook.com/docs/graph-api/securing-requests
//     `id` is a numeric string. Facebook has no verified flag: `email` is the address (prefix
//     stripped); for a `noemail:` login the field is absent, as the User reference allows
//     ("will not be returned if no valid email address is available"):
//     https://developers.facebook.com/docs/graph-api/reference/user
//
// A tampering OpenID issuer, under /tamper (issuer http://127.0.0.1:PORT/tamper):
//   https://openid.net/specs/openid-connect-core-1_0.html (code flow, ID token validation)
//   https://openid.net/specs/openid-connect-discovery-1_0.html
//   https://www.rfc-editor.org/rfc/rfc9207 (the `iss` authorization response parameter)
//   https://www.rfc-editor.org/rfc/rfc7636 (PKCE)
//   It behaves like a correct provider (discovery, JWKS, RS256 ID token, client_secret_basic,
//   PKCE S256, nonce, auth_time) whose authorize step signs in at once as the `login` query
//   parameter (default `tamper-user`), until a test breaks one thing with
//   POST /tamper/break {"break": MODE}; the mode stays until the next /tamper/break:
//     none       behave correctly
//     aud        the ID token's aud is another client
//     nonce      the ID token carries a different nonce than the authorize request sent
//     iss_param  the callback's `iss` parameter names another issuer (applied at authorize)
//     exp        the ID token expired an hour ago
//     signature  the ID token is signed by a key that is not in the JWKS (same kid)
//     alg_none   the ID token is unsigned (`alg: none`)
//     auth_time  the ID token's auth_time is an hour old (what a reauth must refuse)
import { createServer } from 'node:http';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const CODE_TTL_MS = 10 * 60 * 1000;
const BREAKS = ['none', 'aud', 'nonce', 'iss_param', 'exp', 'signature', 'alg_none', 'auth_time'];

// ---------------------------------------------------------------------------------------
// Command line

/** `ID:SECRET[:REDIRECT_URI]`; the redirect URI has colons of its own. */
function parseClient(flag, value) {
  const first = value.indexOf(':');
  if (first < 1) throw new Error(`${flag} wants ID:SECRET[:REDIRECT_URI], got ${value}`);
  const second = value.indexOf(':', first + 1);
  return {
    id: value.slice(0, first),
    secret: second < 0 ? value.slice(first + 1) : value.slice(first + 1, second),
    redirectUri: second < 0 ? undefined : value.slice(second + 1),
  };
}

function parseArgs(argv) {
  const out = { port: 0, clients: { github: [], facebook: [], tamper: [] } };
  const kinds = { '--github': 'github', '--facebook': 'facebook', '--tamper-client': 'tamper' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--port') out.port = Number(value);
    else if (kinds[flag]) out.clients[kinds[flag]].push(parseClient(flag, value));
    else throw new Error(`unknown flag ${flag}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Who signs in

/** The identity behind a typed login; see the header for the prefix rules. */
function identity(login) {
  let rest = login;
  let verified = true;
  let hasEmail = true;
  if (rest.startsWith('unverified:')) {
    rest = rest.slice('unverified:'.length);
    verified = false;
  } else if (rest.startsWith('noemail:')) {
    rest = rest.slice('noemail:'.length);
    hasEmail = false;
  }
  const email = rest.includes('@') ? rest : `${rest}@example.test`;
  const handle = email.split('@')[0];
  return {
    login,
    email: hasEmail ? email : null,
    verified,
    handle,
    name: handle.charAt(0).toUpperCase() + handle.slice(1),
  };
}

/** A stable positive integer below 2^48 per provider and login, like a real account id. */
function numericId(provider, login) {
  return createHash('sha256').update(`${provider}\0${login}`).digest().readUIntBE(0, 6);
}

// ---------------------------------------------------------------------------------------
// Codes, tokens, PKCE

/** Authorization codes and access tokens of all three stand-ins, keyed by their value. */
const codes = new Map();
const tokens = new Map();

/** Opaque values in [A-Za-z0-9], the alphabet of GitHub's and Facebook's tokens. */
function randomToken(prefix = '') {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  // 248 = 4 * 62: rejecting larger bytes keeps every letter equally likely.
  const letters = [...randomBytes(64)].filter((b) => b < 248).slice(0, 36);
  return prefix + letters.map((b) => alphabet[b % 62]).join('');
}

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

/** RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge. */
function pkceMatches(challenge, verifier) {
  if (!challenge) return true; // PKCE is optional at GitHub and Facebook when not started.
  if (!verifier) return false;
  return safeEqual(b64url(createHash('sha256').update(verifier).digest()), challenge);
}

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Takes a code for one exchange: any attempt that names it burns it, right or wrong, so a
 * replay never works. Answers the stored grant, or the reason it is unusable.
 */
function takeCode(provider, value) {
  const grant = value ? codes.get(value) : undefined;
  if (!grant || grant.provider !== provider) return { problem: 'unknown' };
  if (grant.used) return { problem: 'used' };
  grant.used = true; // Kept (until it expires) so a replay is told "used", not "unknown".
  if (Date.now() > grant.expires) return { problem: 'expired' };
  return { grant };
}

function issueCode(grant) {
  for (const [key, old] of codes) if (Date.now() > old.expires + CODE_TTL_MS) codes.delete(key);
  const value = randomToken();
  codes.set(value, { ...grant, expires: Date.now() + CODE_TTL_MS, used: false });
  return value;
}

// ---------------------------------------------------------------------------------------
// HTTP plumbing

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res, status, value, headers = {}) {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
}

function sendHtml(res, status, title, body) {
  send(
    res,
    status,
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
      + `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`,
    { 'Content-Type': 'text/html; charset=utf-8' },
  );
}

function redirect(res, url) {
  send(res, 302, '', { Location: url });
}

/** `base` with `params` added to its query (existing query kept, undefined values skipped). */
function withQuery(base, params) {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  return url.toString();
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1 << 20) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Query parameters merged with a form or JSON body, as the token endpoints accept both. */
async function allParams(req, url) {
  const params = Object.fromEntries(url.searchParams);
  if (req.method !== 'POST') return params;
  const body = await readBody(req);
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) {
    return { ...params, ...(body ? JSON.parse(body) : {}) };
  }
  return { ...params, ...Object.fromEntries(new URLSearchParams(body)) };
}

function bearer(req, params = {}) {
  const header = req.headers.authorization ?? '';
  const m = /^(?:Bearer|token)\s+(\S+)$/i.exec(header);
  return m ? m[1] : params.access_token;
}

// ---------------------------------------------------------------------------------------
// The shared consent page

/**
 * The "Authorize Gatehouse" page: a GET form back to the same URL that resubmits every
 * query parameter plus `login` ("Authorize") or `deny=1` ("Cancel").
 */
function authorizePage(res, providerName, url) {
  const hidden = [...url.searchParams]
    .filter(([k]) => k !== 'login' && k !== 'deny')
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  sendHtml(
    res,
    200,
    'Authorize Gatehouse',
    `<p>${escapeHtml(providerName)} stand-in: Gatehouse wants to know who you are.</p>`
      + `<form method="get" action="${escapeHtml(url.pathname)}">${hidden}`
      + '<label for="login">Login</label> <input id="login" name="login" type="text" required autofocus> '
      + '<button type="submit">Authorize</button> '
      + '<button type="submit" name="deny" value="1" formnovalidate>Cancel</button></form>',
  );
}

/**
 * Checks client_id and redirect_uri of an authorize request. On failure it has already
 * answered with an error page (never a redirect to an unvetted URI) and returns undefined.
 */
function authorizeClient(res, providerName, clients, params) {
  const client = clients.find((c) => c.id === params.client_id);
  if (!client) {
    sendHtml(res, 404, `${providerName}: unknown application`, `<p>No application has the client_id ${escapeHtml(params.client_id ?? '')}.</p>`);
    return undefined;
  }
  const redirectUri = params.redirect_uri ?? client.redirectUri;
  if (!redirectUri || (client.redirectUri && redirectUri !== client.redirectUri)) {
    sendHtml(res, 400, `${providerName}: redirect_uri mismatch`, '<p>The redirect_uri MUST match the registered callback URL for this application.</p>');
    return undefined;
  }
  if (params.code_challenge_method && params.code_challenge_method !== 'S256') {
    sendHtml(res, 400, `${providerName}: bad request`, '<p>code_challenge_method must be S256.</p>');
    return undefined;
  }
  return { client, redirectUri };
}

// ---------------------------------------------------------------------------------------
// GitHub

const GITHUB_DOCS = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

function github(config) {
  const clients = config.clients.github;

  function authorize(req, res, url) {
    const params = Object.fromEntries(url.searchParams);
    const ok = authorizeClient(res, 'GitHub', clients, params);
    if (!ok) return;
    if (params.deny) {
      redirect(res, withQuery(ok.redirectUri, {
        error: 'access_denied',
        error_description: 'The user has denied your application access.',
        error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied',
        state: params.state,
      }));
      return;
    }
    if (!params.login) {
      authorizePage(res, 'GitHub', url);
      return;
    }
    const code = issueCode({
      provider: 'github',
      clientId: ok.client.id,
      redirectUri: ok.redirectUri,
      challenge: params.code_challenge,
      login: params.login,
      scope: params.scope ?? '',
    });
    redirect(res, withQuery(ok.redirectUri, { code, state: params.state }));
  }

  async function accessToken(req, res, url) {
    const params = await allParams(req, url);
    // GitHub answers in the format the Accept header asks for; form encoding by default.
    const answer = (value) => {
      if ((req.headers.accept ?? '').includes('application/json')) sendJson(res, 200, value);
      else send(res, 200, new URLSearchParams(value).toString(), { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' });
    };
    const fail = (error, description, anchor) => answer({ error, error_description: description, error_uri: `${GITHUB_DOCS}#${anchor}` });

    const client = clients.find((c) => c.id === params.client_id);
    if (!client || !safeEqual(client.secret, params.client_secret ?? '')) {
      fail('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.', 'incorrect-client-credentials');
      return;
    }
    const { grant } = takeCode('github', params.code);
    if (!grant || grant.clientId !== client.id || !pkceMatches(grant.challenge, params.code_verifier)) {
      fail('bad_verification_code', 'The code passed is incorrect or expired.', 'bad-verification-code');
      return;
    }
    if (params.redirect_uri && params.redirect_uri !== grant.redirectUri) {
      fail('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.', 'redirect-uri-mismatch');
      return;
    }
    const scope = grant.scope.split(/[\s,]+/).filter(Boolean).join(',');
    const token = randomToken('gho_');
    tokens.set(token, { provider: 'github', login: grant.login, scope });
    answer({ access_token: token, token_type: 'bearer', scope });
  }

  /** The API's own gatekeeping: User-Agent, then the token. Answers the token or undefined. */
  function apiAuth(req, res) {
    if (!req.headers['user-agent']) {
      send(res, 403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api#user-agent).\n', { 'Content-Type': 'text/plain' });
      return undefined;
    }
    const value = bearer(req);
    const token = value && tokens.get(value);
    if (!token || token.provider !== 'github') {
      sendJson(res, 401, { message: value ? 'Bad credentials' : 'Requires authentication', documentation_url: 'https://docs.github.com/rest', status: '401' });
      return undefined;
    }
    return token;
  }

  function user(req, res) {
    const token = apiAuth(req, res);
    if (!token) return;
    const who = identity(token.login);
    sendJson(res, 200, {
      login: who.login,
      id: numericId('github', who.login),
      type: 'User',
      name: who.name,
      email: null,
    }, { 'X-OAuth-Scopes': token.scope.split(',').join(', ') });
  }

  function emails(req, res) {
    const token = apiAuth(req, res);
    if (!token) return;
    const scopes = token.scope.split(',');
    if (!scopes.includes('user:email') && !scopes.includes('user')) {
      sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user', status: '404' }, { 'X-Accepted-OAuth-Scopes': 'user, user:email' });
      return;
    }
    const who = identity(token.login);
    const list = [{ email: `${who.handle}+other@example.test`, primary: false, verified: true, visibility: null }];
    if (who.email) list.push({ email: who.email, primary: true, verified: who.verified, visibility: 'private' });
    sendJson(res, 200, list, { 'X-OAuth-Scopes': scopes.join(', ') });
  }

  return async (req, res, url, path) => {
    if (req.method === 'GET' && path === '/login/oauth/authorize') return authorize(req, res, url);
    if (req.method === 'POST' && path === '/login/oauth/access_token') return accessToken(req, res, url);
    if (req.method === 'GET' && path === '/api/user') return user(req, res);
    if (req.method === 'GET' && path === '/api/user/emails') return emails(req, res);
    return false;
  };
}

// ---------------------------------------------------------------------------------------
// Facebook

function graphError(res, message, code, extra = {}) {
  sendJson(res, 400, {
    error: { message, type: 'OAuthException', code, ...extra, fbtrace_id: randomBytes(8).toString('base64url') },
  });
}

function facebook(config) {
  const clients = config.clients.facebook;

  function dialog(req, res, url) {
    const params = Object.fromEntries(url.searchParams);
    const ok = authorizeClient(res, 'Facebook', clients, params);
    if (!ok) return;
    if ((params.response_type ?? 'code') !== 'code') {
      sendHtml(res, 400, 'Facebook: unsupported response_type', '<p>This stand-in only does response_type=code.</p>');
      return;
    }
    if (params.deny) {
      redirect(res, withQuery(ok.redirectUri, {
        error_reason: 'user_denied',
        error: 'access_denied',
        error_description: 'Permissions error.',
        state: params.state,
      }));
      return;
    }
    if (!params.login) {
      authorizePage(res, 'Facebook', url);
      return;
    }
    const code = issueCode({
      provider: 'facebook',
      clientId: ok.client.id,
      redirectUri: ok.redirectUri,
      challenge: params.code_challenge,
      login: params.login,
      scope: params.scope ?? '',
    });
    redirect(res, withQuery(ok.redirectUri, { code, state: params.state }));
  }

  async function accessToken(req, res, url) {
    const params = await allParams(req, url);
    const client = clients.find((c) => c.id === params.client_id);
    if (!client || !safeEqual(client.secret, params.client_secret ?? '')) {
      graphError(res, 'Error validating client secret.', 1);
      return;
    }
    const { grant, problem } = takeCode('facebook', params.code);
    if (problem === 'used') return graphError(res, 'This authorization code has been used.', 100, { error_subcode: 36009 });
    if (problem === 'expired') return graphError(res, 'This authorization code has expired.', 100, { error_subcode: 36007 });
    if (!grant || grant.clientId !== client.id) return graphError(res, 'Invalid verification code format.', 100);
    if (params.redirect_uri !== grant.redirectUri) {
      return graphError(res, 'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request', 100, { error_subcode: 36008 });
    }
    if (!pkceMatches(grant.challenge, params.code_verifier)) return graphError(res, 'Invalid code verifier.', 100);
    const token = randomToken('EAA');
    tokens.set(token, { provider: 'facebook', clientId: client.id, login: grant.login, scope: grant.scope });
    return sendJson(res, 200, { access_token: token, token_type: 'bearer', expires_in: 5183944 });
  }

  function me(req, res, url) {
    const params = Object.fromEntries(url.searchParams);
    const value = bearer(req, params);
    if (!value) return graphError(res, 'An active access token must be used to query information about the current user.', 2500);
    const token = tokens.get(value);
    if (!token || token.provider !== 'facebook') return graphError(res, 'Invalid OAuth access token - Cannot parse access token', 190);
    const client = clients.find((c) => c.id === token.clientId);
    if (!params.appsecret_proof) {
      return sendJson(res, 400, { error: { message: 'API calls from the server require an appsecret_proof argument', type: 'GraphMethodException', code: 100, fbtrace_id: randomBytes(8).toString('base64url') } });
    }
    const proof = createHmac('sha256', client.secret).update(value).digest('hex');
    if (!safeEqual(proof, params.appsecret_proof.toLowerCase())) {
      return graphError(res, 'Invalid appsecret_proof provided in the API argument', 100);
    }
    const who = identity(token.login);
    const emailGranted = token.scope.split(/[\s,]+/).includes('email');
    const all = { id: String(numericId('facebook', who.login)), name: who.name };
    if (who.email && emailGranted) all.email = who.email;
    const out = { };
    for (const field of (params.fields ?? 'id,name').split(',').map((f) => f.trim()).filter(Boolean)) {
      if (field === 'email') {
        if (all.email) out.email = all.email;
      } else if (field in all) {
        out[field] = all[field];
      } else {
        return graphError(res, `(#100) Tried accessing nonexisting field (${field}) on node type (User)`, 100);
      }
    }
    out.id = all.id; // Graph always answers the id.
    return sendJson(res, 200, out);
  }

  return async (req, res, url, path) => {
    if (req.method === 'GET' && /^(\/v\d+\.\d+)?\/dialog\/oauth$/.test(path)) return dialog(req, res, url);
    if (/^\/v\d+\.\d+\/oauth\/access_token$/.test(path) && (req.method === 'GET' || req.method === 'POST')) return accessToken(req, res, url);
    if (req.method === 'GET' && /^\/v\d+\.\d+\/me$/.test(path)) return me(req, res, url);
    return false;
  };
}

// ---------------------------------------------------------------------------------------
// Tampering OpenID issuer

async function tamper(config, origin) {
  const clients = config.clients.tamper;
  const issuer = `${origin}/tamper`;
  const kid = randomBytes(8).toString('hex');
  const good = await generateKeyPair('RS256', { extractable: true });
  // The rogue key reuses the published kid, so a client finds "the" key and must fail on
  // the signature itself rather than on an unknown kid.
  const rogue = await generateKeyPair('RS256');
  const publicJwk = { ...(await exportJWK(good.publicKey)), kid, alg: 'RS256', use: 'sig' };
  let mode = 'none';

  const discovery = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid', 'email', 'profile'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'email', 'email_verified', 'name'],
    authorization_response_iss_parameter_supported: true,
  };

  async function setBreak(req, res, url) {
    const params = await allParams(req, url);
    if (!BREAKS.includes(params.break)) {
      return sendJson(res, 400, { error: `break must be one of ${BREAKS.join(', ')}` });
    }
    mode = params.break;
    console.error(`tamper: now breaking ${mode}`);
    return sendJson(res, 200, { break: mode });
  }

  function authorize(req, res, url) {
    const params = Object.fromEntries(url.searchParams);
    const client = clients.find((c) => c.id === params.client_id);
    if (!client || !params.redirect_uri || (client.redirectUri && params.redirect_uri !== client.redirectUri)) {
      return sendHtml(res, 400, 'Tamper: invalid client or redirect_uri', '<p>No redirect: the client or its redirect_uri is not registered.</p>');
    }
    const iss = mode === 'iss_param' ? `${origin}/not-tamper` : issuer;
    const fail = (error, description) => redirect(res, withQuery(params.redirect_uri, { error, error_description: description, state: params.state, iss }));
    if (params.response_type !== 'code') return fail('unsupported_response_type', 'only code');
    if (!(params.scope ?? '').split(' ').includes('openid')) return fail('invalid_scope', 'openid is required');
    if (!params.code_challenge || params.code_challenge_method !== 'S256') return fail('invalid_request', 'PKCE with S256 is required');
    const code = issueCode({
      provider: 'tamper',
      clientId: client.id,
      redirectUri: params.redirect_uri,
      challenge: params.code_challenge,
      login: params.login || 'tamper-user',
      scope: params.scope,
      nonce: params.nonce,
      authTime: Math.floor(Date.now() / 1000),
    });
    return redirect(res, withQuery(params.redirect_uri, { code, state: params.state, iss }));
  }

  /** client_secret_basic: RFC 6749 §2.3.1 form-encodes id and secret inside Basic. */
  function basicClient(req) {
    const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const unform = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    const [id, secret] = [unform(decoded.slice(0, colon)), unform(decoded.slice(colon + 1))];
    const client = clients.find((c) => c.id === id);
    return client && safeEqual(client.secret, secret) ? client : undefined;
  }

  /** The ID token a correct provider would send, except for the current break mode. */
  async function idToken(grant, client) {
    const now = Math.floor(Date.now() / 1000);
    const who = identity(grant.login);
    const claims = {
      iss: issuer,
      sub: grant.login,
      aud: client.id,
      iat: now,
      exp: now + 600,
      auth_time: grant.authTime,
      ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
      ...(who.email ? { email: who.email, email_verified: who.verified } : {}),
      name: who.name,
    };
    if (mode === 'aud') claims.aud = `${client.id}-other`;
    if (mode === 'nonce') claims.nonce = `tampered-${randomBytes(8).toString('hex')}`;
    if (mode === 'exp') Object.assign(claims, { iat: now - 4200, exp: now - 3600, auth_time: Math.min(grant.authTime, now - 4200) });
    if (mode === 'auth_time') claims.auth_time = now - 3600;
    if (mode === 'alg_none') {
      return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.`;
    }
    const key = mode === 'signature' ? rogue.privateKey : good.privateKey;
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
  }

  async function token(req, res, url) {
    const params = await allParams(req, url);
    const oauthError = (status, error, description) => sendJson(res, status, { error, error_description: description });
    const client = basicClient(req);
    if (!client) {
      res.setHeader('WWW-Authenticate', 'Basic realm="tamper"');
      return oauthError(401, 'invalid_client', 'client authentication failed (client_secret_basic)');
    }
    if (params.grant_type !== 'authorization_code') return oauthError(400, 'unsupported_grant_type', 'only authorization_code');
    const { grant, problem } = takeCode('tamper', params.code);
    if (!grant || grant.clientId !== client.id) return oauthError(400, 'invalid_grant', `code is ${problem ?? 'for another client'}`);
    if (params.redirect_uri !== grant.redirectUri) return oauthError(400, 'invalid_grant', 'redirect_uri mismatch');
    if (!pkceMatches(grant.challenge, params.code_verifier)) return oauthError(400, 'invalid_grant', 'PKCE verification failed');
    const accessToken = randomToken();
    tokens.set(accessToken, { provider: 'tamper', login: grant.login, scope: grant.scope });
    return sendJson(res, 200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: grant.scope,
      id_token: await idToken(grant, client),
    });
  }

  function userinfo(req, res) {
    const token = tokens.get(bearer(req) ?? '');
    if (!token || token.provider !== 'tamper') {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      return sendJson(res, 401, { error: 'invalid_token' });
    }
    const who = identity(token.login);
    return sendJson(res, 200, {
      sub: token.login,
      ...(who.email ? { email: who.email, email_verified: who.verified } : {}),
      name: who.name,
    });
  }

  return async (req, res, url, path) => {
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') return sendJson(res, 200, discovery);
    if (req.method === 'GET' && path === '/jwks') return sendJson(res, 200, { keys: [publicJwk] });
    if (req.method === 'GET' && path === '/authorize') return authorize(req, res, url);
    if (req.method === 'POST' && path === '/token') return token(req, res, url);
    if (req.method === 'GET' && path === '/userinfo') return userinfo(req, res);
    if (req.method === 'POST' && path === '/break') return setBreak(req, res, url);
    return false;
  };
}

// ---------------------------------------------------------------------------------------

async function main() {
  const config = parseArgs(process.argv.slice(2));
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const routes = {
    '/github': github(config),
    '/facebook': facebook(config),
    '/tamper': await tamper(config, origin),
  };

  server.on('request', async (req, res) => {
    const url = new URL(req.url, origin);
    const prefix = Object.keys(routes).find((p) => url.pathname.startsWith(`${p}/`));
    try {
      const handled = prefix ? await routes[prefix](req, res, url, url.pathname.slice(prefix.length)) : false;
      if (handled === false) sendJson(res, 404, { message: 'Not Found' });
    } catch (err) {
      console.error(err);
      if (!res.headersSent) sendJson(res, 500, { message: String(err.message ?? err) });
    }
    console.error(`${req.method} ${url.pathname} -> ${res.statusCode}`);
  });

  console.log(`Stand-in providers listening on ${origin}`);

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
