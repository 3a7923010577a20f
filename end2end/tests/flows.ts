/**
 * Steps a person takes, shared by the specs.
 */
import { expect, Page, test as base } from '@playwright/test';
import { STRONG_PASSWORD, totp, uniqueEmail } from './helpers';
import { linkIn, waitForMail } from './mail';

/**
 * Collects what `page` logs of Content Security Policy violations, hydration errors and
 * panics; the returned function checks there were none.
 */
export function watchConsole(page: Page): () => void {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (load|execute|apply)|hydration error|panicked/i.test(message.text())) {
      problems.push(message.text());
    }
  });
  return () => expect(problems, 'CSP violations, hydration errors or panics in the console').toEqual([]);
}

/**
 * The test function every spec uses: it fails a test whose page logs a Content Security
 * Policy violation, a hydration error or a panic, so neither the CSP nor a mismatch
 * between server and WASM can silently turn the app into plain HTML forms. A spec that
 * opens pages of its own watches them with `watchConsole`.
 */
export const test = base.extend({
  page: async ({ page }, use) => {
    const noProblems = watchConsole(page);
    await use(page);
    noProblems();
  },
});

export { expect };

/** Waits until the WASM has hydrated the page, so buttons run their Rust handlers. */
export async function hydrated(page: Page): Promise<void> {
  await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

/** The subject of the mail whose link confirms an account's address. */
export const VERIFY_SUBJECT = 'Confirm your email address';

/**
 * Confirms the account's address as its owner does: opens the link of the `count`th
 * "Confirm your email address" mail and presses the page's button. Ends on Profile,
 * told so. Without JavaScript too (`js: false`).
 */
export async function confirmEmail(page: Page, email: string, { js = true, count = 1 } = {}): Promise<void> {
  const mail = await waitForMail(email, VERIFY_SUBJECT, { count });
  await page.goto(linkIn(mail, '/verify-email'));
  if (js) await hydrated(page);
  await page.getByRole('button', { name: 'Confirm my email address', exact: true }).click();
  await expect(page).toHaveURL(/\/settings\?verification=done$/);
  await expect(page.getByRole('status').filter({ hasText: 'Your email address is confirmed.' })).toBeVisible();
}

/**
 * Signs up with a password and, unless `verify: false`, confirms the address with the
 * mailed link: an account whose address is not confirmed can add no way in (2FA, a
 * passkey, a provider). Ends signed in on Profile.
 */
export async function signUp(page: Page, email = uniqueEmail(), { verify = true } = {}): Promise<string> {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  if (verify) await confirmEmail(page, email);
  return email;
}

export async function signIn(page: Page, email: string): Promise<void> {
  await page.goto('/signin');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
  // The address changes before the new page is drawn: wait for the page itself.
  await expect(page.getByRole('heading', { name: 'Sign in', level: 1 })).toBeVisible();
}

export interface TwoFactor {
  key: string;
  codes: string[];
}

/**
 * Settings → Two-Factor Auth → Enable, scanning the key as an app would. Ends back on the
 * tab with the dialog closed, unless `leaveOpen` keeps the recovery codes on screen.
 */
export async function enableTwoFactor(page: Page, { leaveOpen = false } = {}): Promise<TwoFactor> {
  await page.goto('/settings/two-factor');
  await hydrated(page);
  await page.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
  await expect(dialog).toBeVisible();
  const key = (await dialog.getByTestId('setup-key').textContent())!.trim();
  await dialog.getByLabel('Verification code').fill(totp(key));
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Enable' }).click();
  const list = dialog.getByRole('list', { name: 'Recovery codes' });
  await expect(list).toBeVisible();
  const codes = (await list.locator('code').allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(10);
  if (!leaveOpen) {
    await dialog.getByRole('link', { name: 'Done' }).click();
    await expect(dialog).toBeHidden();
  }
  return { key, codes };
}

/** Signs in with the password of an account with 2FA on, up to the code prompt. */
export async function signInToCodePrompt(page: Page, email: string): Promise<void> {
  await signIn(page, email);
  await expect(page).toHaveURL(/\/signin\/code/);
  await hydrated(page);
}

/** The code for the step after the current one: the current step was spent enabling. */
export function nextCode(key: string): string {
  return totp(key, Date.now() + 30_000);
}

/**
 * Types a code at the prompt. Six digits in the app-code field send the form by
 * themselves; anything else needs the Verify button.
 */
export async function enterCode(page: Page, code: string): Promise<void> {
  const field = page.getByLabel('Two-factor authentication code');
  // Read before typing: a code that sends itself may leave the page at once.
  const submitsItself =
    /^\d{6}$/.test(code.replace(/[\s-]/g, '')) && (await field.getAttribute('inputmode')) === 'numeric';
  await field.fill(code);
  if (!submitsItself) {
    await page.getByRole('button', { name: 'Verify' }).click();
  }
}
