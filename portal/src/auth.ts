// OpenID Connect, authorisation code flow with PKCE (S256): discovery -> authorize -> token, the
// id_token's signature checked against the issuer's JWKS with WebCrypto. The same code path runs
// against Education Sector Logon and the local identity provider. The token lives in
// sessionStorage (this tab only) and is never logged.
import { loadConfig, type PortalConfig } from './config';

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

export interface Session {
  token: string;
  sub: string;
  exp: number;
}

const SESSION_KEY = 'portal.session';
const PENDING_KEY = 'portal.pending';

function b64url(bytes: Uint8Array): string {
  let s = '';
  bytes.forEach((b) => (s += String.fromCharCode(b)));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function b64urlDecode(s: string): Uint8Array<ArrayBuffer> {
  const pad = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
  const bin = atob(pad);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function randomString(bytes = 32): string {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return b64url(a);
}

export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

async function discover(cfg: PortalConfig): Promise<Discovery> {
  const r = await fetch(`${cfg.issuer}/.well-known/openid-configuration`);
  if (!r.ok) throw new Error('The sign-in service could not be reached.');
  const d = (await r.json()) as Discovery;
  if (d.issuer.replace(/\/$/, '') !== cfg.issuer) throw new Error('The sign-in service gave an unexpected issuer.');
  return d;
}

function redirectUri(cfg: PortalConfig): string {
  return `${location.origin}${cfg.redirectPath ?? '/auth/callback'}`;
}

/** Start sign-in: remember where the user was going, then go to the identity provider. */
export async function signIn(returnTo: string): Promise<void> {
  const cfg = await loadConfig();
  const d = await discover(cfg);
  const verifier = randomString(48);
  const state = randomString(16);
  const nonce = randomString(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, nonce, returnTo }));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: cfg.clientId,
    redirect_uri: redirectUri(cfg),
    scope: 'openid',
    state,
    nonce,
    code_challenge: await pkceChallenge(verifier),
    code_challenge_method: 'S256',
  });
  location.assign(`${d.authorization_endpoint}?${q}`);
}

function decodePart<T>(part: string): T {
  return JSON.parse(new TextDecoder().decode(b64urlDecode(part))) as T;
}

async function verifyIdToken(token: string, cfg: PortalConfig, d: Discovery, nonce: string): Promise<Session> {
  const [h, p, s] = token.split('.');
  const header = decodePart<{ alg: string; kid?: string }>(h);
  if (header.alg !== 'RS256') throw new Error('The sign-in token is not signed as expected.');
  const jwks = (await (await fetch(d.jwks_uri)).json()) as { keys: (JsonWebKey & { kid?: string })[] };
  const jwk = jwks.keys.find((k) => !header.kid || k.kid === header.kid);
  if (!jwk) throw new Error('The sign-in token was signed with an unknown key.');
  const key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, n: jwk.n, e: jwk.e, alg: 'RS256', ext: true }, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, b64urlDecode(s), new TextEncoder().encode(`${h}.${p}`));
  if (!ok) throw new Error('The sign-in token signature is not valid.');
  const claims = decodePart<{ iss: string; aud: string | string[]; exp: number; sub: string; nonce?: string }>(p);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== d.issuer || !aud.includes(cfg.clientId) || claims.nonce !== nonce || claims.exp * 1000 < Date.now()) {
    throw new Error('The sign-in token is not for this portal.');
  }
  return { token, sub: claims.sub, exp: claims.exp };
}

/** The /auth/callback step: check state, exchange the code with the PKCE verifier, keep the token. */
export async function completeSignIn(search: string): Promise<string> {
  const params = new URLSearchParams(search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as { verifier: string; state: string; nonce: string; returnTo: string } | null;
  sessionStorage.removeItem(PENDING_KEY);
  if (params.get('error')) throw new Error(params.get('error_description') ?? 'Sign-in was not completed.');
  if (!pending || params.get('state') !== pending.state) throw new Error('This sign-in link is not the one this browser started. Sign in again.');
  const cfg = await loadConfig();
  const d = await discover(cfg);
  const r = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      code_verifier: pending.verifier,
      redirect_uri: redirectUri(cfg),
      client_id: cfg.clientId,
    }),
  });
  if (!r.ok) throw new Error('Sign-in could not be completed. Sign in again.');
  const body = (await r.json()) as { id_token: string; access_token: string };
  const session = await verifyIdToken(body.id_token, cfg, d, pending.nonce);
  session.token = body.access_token;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//') ? pending.returnTo : '/';
}

export function currentSession(): Session | null {
  const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
  if (!s || s.exp * 1000 < Date.now() + 30_000) return null;
  return s;
}

export function signOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
}
