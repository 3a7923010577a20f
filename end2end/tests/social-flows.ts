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
import { STRONG_PASSWORD, totp } from './helpers';

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

/** Where Settings → Sign-in methods lives. */
export const METHODS = '/settings/sign-in-methods';

export interface Confirm {
  /** The password typed in the panel (`null`: the account has none, type nothing). */
  password?: string | null;
  /** A code from the app or a recovery code, for an account with 2FA on. */
  code?: string;
  js?: boolean;
}

/**
 * Settings → Sign-in methods → "Connect NAME" (a link that opens the confirmation panel
 * in place), the password and `code` typed there, then "Continue to NAME", which goes on
 * to the provider.
 */
export async function connectFromMethods(
  page: Page,
  name: string,
  { password = STRONG_PASSWORD, code, js = true }: Confirm = {},
): Promise<void> {
  const row = await openPanel(page, name, 'connect', js);
  await fillConfirmation(row, { password, code });
  await row.getByRole('button', { name: `Continue to ${name}`, exact: true }).click();
}

/** Settings → Sign-in methods → "Disconnect NAME", confirmed in its panel. */
export async function disconnectFromMethods(
  page: Page,
  name: string,
  { password = STRONG_PASSWORD, code, js = true }: Confirm = {},
): Promise<void> {
  const row = await openPanel(page, name, 'disconnect', js);
  await fillConfirmation(row, { password, code });
  await row.getByRole('button', { name: `Disconnect ${name}`, exact: true }).click();
}

/** Opens the tab, and the Connect or Disconnect panel of `name`'s row; returns the row. */
export async function openPanel(page: Page, name: string, which: 'connect' | 'disconnect', js = true) {
  await page.goto(METHODS);
  if (js) await hydrated(page);
  const row = methodRow(page, name);
  const verb = which === 'connect' ? 'Connect' : 'Disconnect';
  await row.getByRole('link', { name: `${verb} ${name}`, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`\\?${which}=\\w+$`));
  await expect(row.getByRole('link', { name: 'Cancel' })).toBeVisible();
  return row;
}

async function fillConfirmation(row: ReturnType<typeof methodRow>, { password, code }: Confirm): Promise<void> {
  if (password !== null && password !== undefined) await row.getByLabel('Password', { exact: true }).fill(password);
  if (code !== undefined) await row.getByLabel('Code from your app or a recovery code').fill(code);
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
