import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { expect, test as base, type Page } from '@playwright/test';

export const PORTAL = process.env.PORTAL_URL ?? 'http://127.0.0.1:3000';
export const API = process.env.API_URL ?? 'http://127.0.0.1:3001';
const ENROL_SECRET = process.env.ENROL_SECRET ?? 'local-enrol-signing-secret';
const here = dirname(fileURLToPath(import.meta.url));

/** Sign in through the portal and the identity provider's page, as a person would. */
export async function signIn(page: Page, userId: string): Promise<void> {
  await page.goto('/');
  // someone else signed in on this page: sign them out first
  const out = page.getByRole('button', { name: 'Sign out' });
  const signInButton = page.getByRole('button', { name: 'Sign in' });
  await expect(out.or(signInButton)).toBeVisible();
  if (await out.isVisible()) await out.click();
  await signInButton.click();
  await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
  await page.locator(`button[name="user"][value="${userId}"]`).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** An axe-core scan of the page as it is now: no serious or critical violations. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), `axe on ${what}`).toEqual([]);
}

/** Screenshots for docs/portal/ (only when PORTAL_SCREENSHOTS=1: `npm run screenshots`). */
export async function shot(page: Page, name: string): Promise<void> {
  if (process.env.PORTAL_SCREENSHOTS !== '1') return;
  const dir = join(here, '..', '..', 'docs', 'portal');
  mkdirSync(dir, { recursive: true });
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const width = page.viewportSize()?.width ?? 1280;
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(height, 2200) } });
}

const b64url = (b: Buffer) => b.toString('base64url');

/** A token for a demo user through the identity provider's own code + PKCE flow (for test set-up). */
export async function tokenFor(userId: string): Promise<string> {
  const conf = (await (await fetch(`${API}/local-idp/.well-known/openid-configuration`)).json()) as { authorization_endpoint: string; token_endpoint: string };
  const verifier = b64url(randomBytes(48));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const redirect = `${PORTAL}/auth/callback`;
  const form = new URLSearchParams({
    response_type: 'code',
    client_id: 'attendance-portal-local',
    redirect_uri: redirect,
    scope: 'openid',
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    user: userId,
  });
  const r = await fetch(conf.authorization_endpoint, { method: 'POST', body: form, redirect: 'manual' });
  const code = new URL(r.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const t = await fetch(conf.token_endpoint, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirect, client_id: 'attendance-portal-local' }),
  });
  expect(t.status).toBe(200);
  return ((await t.json()) as { access_token: string }).access_token;
}

export async function call(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${API}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

let seq = 0;
/** Every name and NSN a test made up: none may appear in a URL or the browser console. */
const secrets: string[] = [];

/**
 * `test` with a privacy guard on every page: no child's name or NSN in any URL the browser goes to,
 * nor in anything the page writes to the console.
 */
export const test = base.extend<{ privacyGuard: void }>({
  privacyGuard: [
    async ({ context }, use) => {
      const leaks: string[] = [];
      const check = (where: string, text: string) => {
        const hit = secrets.find((x) => text.includes(x) || text.includes(encodeURIComponent(x)));
        if (hit) leaks.push(`${where}: ${text.slice(0, 200)}`);
      };
      const watch = (page: Page) => {
        page.on('console', (m) => check('console', m.text()));
        page.on('pageerror', (e) => check('page error', String(e)));
        page.on('framenavigated', (f) => check('URL', f.url()));
        page.on('request', (r) => check('request URL', r.url()));
      };
      context.pages().forEach(watch);
      context.on('page', watch);
      await use();
      expect(leaks, 'child details leaked into URLs or the console').toEqual([]);
    },
    { auto: true },
  ],
});
/** A name nobody else in this run has (letters only: names may not contain digits). */
export function uniqueName(first: string): string {
  let n = Date.now() * 10 + (seq++ % 10);
  let s = '';
  while (n > 0) {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  const tail = s.slice(-8);
  const name = `${first} ${tail[0].toUpperCase()}${tail.slice(1)}`;
  secrets.push(name);
  return name;
}
/** An NSN no other test run has used (the student's identity: one active case each). */
export function freshNsn(): string {
  seq += 1;
  const nsn = String(100_000_000 + ((Date.now() * 7 + process.pid * 131 + seq * 7919) % 899_999_999)).slice(0, 9);
  secrets.push(nsn);
  return nsn;
}

/** YYYY-MM-DD for someone `years` old today (NZ date is close enough for ages). */
export function birthDate(years: number, days = 40): string {
  const d = new Date();
  d.setFullYear(d.getFullYear() - years);
  d.setDate(d.getDate() - days);
  return d.toISOString().slice(0, 10);
}

export function completeForm(nsn: string, fullName: string, overrides: Record<string, unknown> = {}) {
  return {
    student: { fullName, dateOfBirth: birthDate(12), nsn, yearLevel: 7, international: false },
    whanau: [{ name: 'Mere Example', relationship: 'mother', phone: '021 555 0101' }],
    homeAddress: { street: '12 Kowhai Lane', town: 'Kaitaia', postcode: '0410' },
    reason: 'Attended 55% of half-days this term.',
    actionsTaken: 'Attendance plan; two whānau hui.',
    absencePattern: 'whole_days',
    primaryContactUserId: 'contact-1001',
    ...overrides,
  };
}

/** A submitted CA request of school 1001, in P01's Provider Queue: the case id. */
export async function caseInQueue(fullName: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const lead = await tokenFor('lead-1001');
  const r = await call(lead, 'POST', '/referrals', { ...completeForm(freshNsn(), fullName, overrides), submit: true });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const id = r.body.caseId as string;
  await waitForStatus(lead, id, 'provider_queue');
  return id;
}

export async function waitForStatus(token: string, id: string, status: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const r = await call(token, 'GET', `/cases/${id}`);
    if (r.body?.status === status) return;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`case did not reach ${status}`);
}

/** A Non-Enrolment Notification from ENROL (signed like ENROL signs it): the new case id. */
export async function nenCase(fullName: string, town = 'Kaitaia'): Promise<string> {
  const body = JSON.stringify({
    id: `nen-${Date.now()}-${seq++}`,
    type: 'non_enrolment_notification',
    data: {
      nsn: freshNsn(),
      student: { fullName, dateOfBirth: birthDate(11) },
      lastSchoolId: '1001',
      lastDayOfAttendance: new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10),
      withdrawalReason: 'Moved away without a new enrolment.',
      caregivers: [{ name: 'Hone Example', relationship: 'father', phone: '021 555 0199' }],
      addresses: [{ street: '3 Rata Street', town, postcode: '0410' }],
    },
  });
  const t = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', ENROL_SECRET).update(`${t}.${body}`).digest('hex');
  const r = await fetch(`${API}/enrol/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'enrol-signature': `t=${t},v1=${sig}` }, body });
  const answer = (await r.json()) as { caseId?: string };
  expect(r.status, JSON.stringify(answer)).toBe(200);
  return answer.caseId!;
}

/** No horizontal scrolling at the current viewport width. */
export async function expectNoSideScroll(page: Page): Promise<void> {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scroll, 'page scrolls sideways').toBeLessThanOrEqual(width);
}
