import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import {
  confirmEmail,
  enableTwoFactor,
  enterCode,
  expect,
  hydrated,
  nextCode,
  signInToCodePrompt,
  signOut,
  signUp,
  test,
} from './flows';
import { STRONG_PASSWORD } from './helpers';
import { linkIn, waitForMail } from './mail';
import { emailOf, expectSignedInAs, OIDC, uniqueLogin, viaOidc } from './social-flows';

/** Runs axe on what is on screen and fails on any serious or critical violation. */
async function noSeriousViolations(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(serious, `axe on ${what}`).toEqual([]);
}

test('every page and dialog passes axe', async ({ page }) => {
  // Sixteen pages, each hydrated and scanned, and the first test also pays for the browser
  // compiling the debug WASM: 36–44 s here, too near the 60-s guard against hangs.
  test.slow();
  for (const path of ['/', '/signin', '/signup', '/signin?error=email_exists&provider=idp']) {
    await page.goto(path);
    await hydrated(page);
    await noSeriousViolations(page, path);
  }

  const email = await signUp(page);
  for (const path of [
    '/settings',
    '/settings/sign-in-methods',
    '/settings/sign-in-methods?connect=idp',
    '/settings/sign-in-methods?error=wrong_password&provider=idp',
    '/settings/two-factor',
    '/settings/sessions',
    '/settings/activity',
  ]) {
    await page.goto(path);
    await hydrated(page);
    await noSeriousViolations(page, path);
  }

  await page.goto('/settings/two-factor');
  await hydrated(page);
  await page.getByRole('button', { name: 'Enable' }).click();
  await expect(page.getByTestId('setup-key')).toBeVisible();
  await noSeriousViolations(page, 'the enable dialog');

  const { key } = await enableTwoFactor(page, { leaveOpen: true });
  await noSeriousViolations(page, 'the recovery codes');

  await page.goto('/settings/two-factor');
  await hydrated(page);
  await noSeriousViolations(page, 'the Two-Factor Auth tab, on');
  for (const [path, name] of [
    ['/settings/two-factor/disable', 'Disable two-factor authentication'],
    ['/settings/two-factor/recovery-codes', 'New recovery codes'],
  ]) {
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByRole('dialog', { name })).toBeVisible();
    await noSeriousViolations(page, path);
  }

  await page.goto('/settings/two-factor');
  await hydrated(page);
  await signOut(page);
  await signInToCodePrompt(page, email);
  await noSeriousViolations(page, 'the code prompt');
  await enterCode(page, '000000' === nextCode(key) ? '111111' : '000000');
  await expect(page.getByRole('alert')).toBeVisible();
  await noSeriousViolations(page, 'the code prompt with an error');
});

test('the codes page for browsers without JavaScript passes axe, with codes and after', async ({ page }) => {
  await signUp(page);
  const { codes } = await enableTwoFactor(page);
  // A plain form post, as a browser without JavaScript sends it; the cookies are the page's.
  const res = await page.request.post('/api/regenerate_recovery_codes', {
    form: { code: codes[0], password: STRONG_PASSWORD },
    headers: { accept: 'text/html' },
    maxRedirects: 0,
  });
  expect(res.headers()['location']).toBe('/settings/two-factor/new-codes');
  await page.goto('/settings/two-factor/new-codes');
  await hydrated(page);
  await expect(page.getByRole('list', { name: 'Recovery codes' })).toBeVisible();
  await noSeriousViolations(page, 'the new codes, shown by the server');

  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor$/);
  await page.goto('/settings/two-factor/new-codes');
  await hydrated(page);
  await expect(page.getByText(/no longer shown/)).toBeVisible();
  await noSeriousViolations(page, 'the new codes, gone');
});

test('an account without a password: its Sign-in methods and the provider confirmation pass axe', async ({ page }) => {
  const login = uniqueLogin('axe');
  await viaOidc(page, login, { path: '/signup' });
  await expectSignedInAs(page, emailOf(login));
  // 2FA needs a confirmed address.
  await confirmEmail(page, emailOf(login));
  await page.goto('/settings/sign-in-methods');
  await hydrated(page);
  await expect(page.getByRole('button', { name: 'Set password' })).toBeVisible();
  await noSeriousViolations(page, 'Sign-in methods without a password');

  await page.goto('/settings/two-factor');
  await hydrated(page);
  await page.getByRole('button', { name: 'Enable', exact: true }).click();
  await expect(page.getByRole('button', { name: `Confirm with ${OIDC}` })).toBeVisible();
  await noSeriousViolations(page, 'the enable dialog asking to confirm with the provider');
});

test('the email pages pass axe: forgot and reset password, the emailed links, the Profile banner', async ({ page }) => {
  for (const path of [
    '/forgot-password',
    '/forgot-password?sent=1',
    '/reset-password?token=not-a-real-token',
    '/verify-email?token=not-a-real-token',
    '/confirm-email?token=not-a-real-token',
    '/signin?reset=1',
    '/signup/email',
    '/signup/finish?token=not-a-real-token',
  ]) {
    await page.goto(path);
    await hydrated(page);
    await noSeriousViolations(page, path);
  }

  // Profile with the "Confirm your email address" banner, then the link's page used.
  const email = await signUp(page, undefined, { verify: false });
  await expect(page.getByRole('button', { name: 'Send again' })).toBeVisible();
  await noSeriousViolations(page, 'Profile with the verification banner');
  await page.goto(linkIn(await waitForMail(email, 'Confirm your email address'), '/verify-email'));
  await hydrated(page);
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await expect(page).toHaveURL(/\/settings\?verification=done$/);
  await noSeriousViolations(page, 'Profile after confirming the address');
  await page.goto('/verify-email?token=not-a-real-token');
  await hydrated(page);
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await noSeriousViolations(page, 'a spent verification link, after pressing the button');

  // The reset page with its form, from a real link.
  await signOut(page);
  await page.goto('/forgot-password');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await expect(page.getByRole('status')).toBeVisible();
  await page.goto(linkIn(await waitForMail(email, 'Reset your Gatehouse password'), '/reset-password'));
  await hydrated(page);
  await expect(page.getByLabel('New password')).toBeVisible();
  await noSeriousViolations(page, 'the reset form');
  await page.getByLabel('New password').fill('password');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await noSeriousViolations(page, 'the reset form with an error');
});
