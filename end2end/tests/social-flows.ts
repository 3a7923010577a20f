/**
 * Steps of signing in through an identity provider, shared by social.spec.ts.
 *
 * The providers are the ones scripts/e2e.sh starts: a real OpenID provider (oidc-provider,
 * configured as "OpenID Test") and the GitHub and Facebook stand-ins. Who signs in is the
 * login typed at the provider: `alice-1` is alice-1@example.test with a verified address,
 * `unverified:bob@x.test` is bob@x.test unverified.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from '@playwright/test';
import { expect, hydrated } from './flows';
import { totp } from './helpers';

export const OIDC = 'OpenID Test';

/** A login no other test uses: `alice-<timestamp>-<random>`. */
export function uniqueLogin(prefix = 'alice'): string {
  return `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`;
}

/** The address the providers give a plain login. */
export function emailOf(login: string): string {
  return `${login}@example.test`;
}

/** Opens `path` (with JavaScript: hydrated) and presses the button named `label`. */
export async function press(page: Page, path: string, label: string, { js = true } = {}): Promise<void> {
  await page.goto(path);
  if (js) await hydrated(page);
  await page.getByRole('button', { name: label, exact: true }).click();
}

/**
 * The OpenID provider's own login form: any password, the login decides who signs in.
 * It is shown on the first sign-in in a browser, and again whenever Gatehouse sends
 * `prompt=login`.
 */
export async function loginAtOidc(page: Page, login: string): Promise<void> {
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/interaction\/[\w-]+$/);
  await expect(page.getByRole('heading', { name: 'Sign-in' })).toBeVisible();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

/** The GitHub or Facebook stand-in's authorize page: type who you are, then answer. */
export async function answerAtStandin(page: Page, login: string, answer: 'Authorize' | 'Cancel' = 'Authorize'): Promise<void> {
  await expect(page).toHaveTitle('Authorize Gatehouse');
  await page.getByLabel('Login').fill(login);
  await page.getByRole('button', { name: answer }).click();
}

/** A full session for `email`: on Settings, and the header names the account. */
export async function expectSignedInAs(page: Page, email: string): Promise<void> {
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('navigation', { name: 'Account' })).toContainText(`Signed in as ${email}`);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** Nobody is signed in: the header offers to sign in. */
export async function expectSignedOut(page: Page): Promise<void> {
  const nav = page.getByRole('navigation', { name: 'Account' });
  await expect(nav.getByRole('link', { name: 'Sign in' })).toBeVisible();
  await expect(nav.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
}

/**
 * Sign up (or in) from `path` through the OpenID provider, typing `login` at its form;
 * `login: null` expects the provider to remember this browser and skip its form.
 */
export async function viaOidc(page: Page, login: string | null, { path = '/signin', js = true } = {}): Promise<void> {
  await press(page, path, `Sign in with ${OIDC}`, { js });
  if (login !== null) await loginAtOidc(page, login);
}

/** The row of one provider on Settings → Sign-in methods. */
export function methodRow(page: Page, name: string) {
  return page.getByRole('region', { name, exact: true });
}

export interface TwoFactor {
  key: string;
  codes: string[];
}

/**
 * Settings → Two-Factor Auth → Enable for an account without a password: confirm with a
 * fresh sign-in at the OpenID provider as `login`, then the app's code. Ends with the
 * recovery codes on screen. Works with JavaScript and without (`js`).
 */
export async function enableTwoFactorWithOidc(page: Page, login: string, { js = true } = {}): Promise<TwoFactor> {
  await press(page, '/settings/two-factor', 'Enable', { js });
  await expect(page).toHaveURL(/\/settings\/two-factor\/enable$/);
  const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
  await dialog.getByRole('button', { name: `Confirm with ${OIDC}` }).click();
  await loginAtOidc(page, login);
  await expect(page).toHaveURL(/\/settings\/two-factor\/enable$/);
  await expect(dialog.getByRole('status').filter({ hasText: `✓ Confirmed with ${OIDC}` })).toBeVisible();
  const key = (await dialog.getByTestId('setup-key').textContent())!.trim();
  await dialog.getByLabel('Verification code').fill(totp(key));
  await dialog.getByRole('button', { name: 'Enable', exact: true }).click();
  const list = page.getByRole('list', { name: 'Recovery codes' });
  await expect(list).toBeVisible();
  const codes = (await list.locator('code').allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(10);
  return { key, codes };
}
