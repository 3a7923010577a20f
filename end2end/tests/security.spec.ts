import {
  enableTwoFactor,
  enterCode,
  expect,
  hydrated,
  nextCode,
  shot,
  signIn,
  signInToCodePrompt,
  signOut,
  signUp,
  test,
} from './flows';
import { STRONG_PASSWORD } from './helpers';

test('five wrong codes lock the account and say when to try again', async ({ page }) => {
  const email = await signUp(page);
  const { key } = await enableTwoFactor(page);
  await signOut(page);

  await signInToCodePrompt(page, email);
  const right = nextCode(key);
  const wrong = right === '123456' ? '654321' : '123456';
  for (let i = 0; i < 4; i++) {
    await enterCode(page, wrong);
    await expect(page.getByRole('alert')).toHaveText(
      'That code is not valid. Check your authenticator app and try again.',
    );
  }
  // The fifth ends the prompt: back to sign-in, told why and for how long.
  await enterCode(page, wrong);
  await expect(page).toHaveURL(/\/signin\?ended=locked&retry=900$/);
  await expect(page.getByRole('status')).toHaveText(
    'Too many wrong codes. For your safety, signing in to this account is paused: try again in 15 minutes.',
  );
  await shot(page, 'lockout');
  // And it holds: the right password now says so at once, with no code prompt to try.
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('signing in to this account is paused: try again in 15 minutes');
  await expect(page).not.toHaveURL(/\/signin\/code/);
});

test('signing out another browser from the Sessions page', async ({ page, browser }) => {
  const email = await signUp(page);
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, email);
  await expect(otherPage).toHaveURL(/\/settings$/);

  await page.goto('/settings/sessions');
  await hydrated(page);
  const items = page.locator('.session-list > li');
  await expect(items).toHaveCount(2);
  await expect(items.filter({ hasText: 'This device' })).toHaveCount(1);
  await shot(page, 'sessions');
  await items.filter({ hasNotText: 'This device' }).getByRole('button', { name: 'Sign out' }).click();
  await expect(items).toHaveCount(1);

  await otherPage.goto('/settings');
  await expect(otherPage).toHaveURL(/\/signin\?next=%2Fsettings$/);
  await other.close();
});

test('security activity lists the walkthrough, newest first', async ({ page }) => {
  const email = await signUp(page);
  await signOut(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('Not-the-right-password-7');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/settings$/);
  const { codes } = await enableTwoFactor(page);
  await signOut(page);
  await signInToCodePrompt(page, email);
  await enterCode(page, codes[0]);
  await expect(page).toHaveURL(/\/settings$/);

  await page.getByRole('link', { name: 'Security activity' }).click();
  const rows = page.locator('table.activity tbody tr');
  await expect(rows.first()).toContainText('Signed in');
  const what = (await rows.locator('.event-what').allTextContents()).map((t) => t.trim());
  expect(what.slice(0, 7)).toEqual([
    'Signed in',
    'Recovery code used',
    'Signed out',
    'Two-factor authentication turned on',
    'Signed in',
    'Sign-in failed',
    'Signed out',
  ]);
  await expect(rows.nth(1)).toContainText('9 left');
  await shot(page, 'security-activity');
});
