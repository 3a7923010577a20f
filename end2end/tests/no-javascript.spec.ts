/**
 * Everything a person needs works with JavaScript off: plain forms, server-rendered QR
 * code, and the recovery codes as a server-made download.
 */
import { readFileSync } from 'node:fs';
import { expect, Page, test } from '@playwright/test';
import * as flows from './flows';
import { STRONG_PASSWORD, totp, uniqueEmail } from './helpers';

test.use({ javaScriptEnabled: false });

async function fillAndSend(page: Page, path: string, email: string, button: string): Promise<void> {
  await page.goto(path);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: button, exact: true }).click();
}

/** Signs up and confirms the address with the mailed link, as 2FA needs a confirmed one. */
async function signUp(page: Page, email: string): Promise<void> {
  await fillAndSend(page, '/signup', email, 'Create account');
  await expect(page).toHaveURL(/\/settings$/);
  await flows.confirmEmail(page, email, { js: false });
}

async function signInWithPassword(page: Page, email: string): Promise<void> {
  await fillAndSend(page, '/signin', email, 'Sign in');
  await expect(page).toHaveURL(/\/signin\/code/);
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
}

test('sign up, enable 2FA, sign in with a code and a recovery code, disable: all without JavaScript', async ({ page }) => {
  const email = uniqueEmail('nojs');
  await signUp(page, email);

  // Enable: the dialog, its QR code and key are rendered by the server.
  await page.goto('/settings/two-factor');
  await page.getByRole('button', { name: 'Enable' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor\/enable$/);
  const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
  await expect(dialog.locator('.qr svg')).toBeVisible();
  const key = (await dialog.getByTestId('setup-key').textContent())!.trim();

  // A wrong code is answered on the page itself, and changes nothing.
  const wrong = totp(key) === '000000' ? '111111' : '000000';
  await dialog.getByLabel('Verification code').fill(wrong);
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Enable' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(
    'That code is not valid. Check your authenticator app and try again.',
  );

  await dialog.getByLabel('Verification code').fill(totp(key));
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Enable' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor\/new-codes$/);
  const codesDialog = page.getByRole('dialog', { name: 'Your recovery codes' });
  const list = codesDialog.getByRole('list', { name: 'Recovery codes' });
  const codes = (await list.locator('code').allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(10);
  await page.screenshot({ path: 'screenshots/no-javascript-recovery-codes.png', fullPage: true });

  // The download is made by the server, once.
  const downloading = page.waitForEvent('download');
  await codesDialog.getByRole('button', { name: 'Download codes' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('gatehouse-recovery-codes.txt');
  const file = readFileSync((await download.path())!, 'utf8');
  for (const code of codes) {
    expect(file).toContain(code);
  }
  await page.reload();
  await expect(page.getByText(/no longer shown/)).toBeVisible();
  await page.getByRole('link', { name: 'Back' }).click();
  await expect(page.getByText(/10 of 10 recovery codes left/)).toBeVisible();
  await signOut(page);

  // The code prompt: a wrong code, then the app's code for the next step.
  await signInWithPassword(page, email);
  await page.getByLabel('Two-factor authentication code').fill(wrong);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'That code is not valid. Check your authenticator app and try again.',
  );
  await page.getByLabel('Two-factor authentication code').fill(totp(key, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await signOut(page);

  // Phone lost: a recovery code instead.
  await signInWithPassword(page, email);
  await page.getByRole('link', { name: 'Lost your phone? Use a recovery code' }).click();
  await page.getByLabel('Two-factor authentication code').fill(codes[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/settings$/);

  // Disable with another recovery code and the password.
  await page.goto('/settings/two-factor');
  await page.getByRole('link', { name: 'Disable' }).click();
  const disable = page.getByRole('dialog', { name: 'Disable two-factor authentication' });
  await disable.getByLabel('Code from your app or a recovery code').fill(codes[1]);
  await disable.getByLabel('Password').fill(STRONG_PASSWORD);
  await disable.getByRole('button', { name: 'Disable' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor$/);
  await expect(page.getByRole('button', { name: 'Enable' })).toBeVisible();
  await signOut(page);

  // Signing in now asks for the password only.
  await fillAndSend(page, '/signin', email, 'Sign in');
  await expect(page).toHaveURL(/\/settings$/);
});

test('regenerated codes reach a browser without JavaScript too, and Done dismisses them', async ({ page }) => {
  await signUp(page, uniqueEmail('nojs-regen'));
  await page.goto('/settings/two-factor');
  await page.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
  const key = (await dialog.getByTestId('setup-key').textContent())!.trim();
  await dialog.getByLabel('Verification code').fill(totp(key));
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Enable' }).click();
  const first = (await page.getByRole('list', { name: 'Recovery codes' }).locator('code').allTextContents()).map((c) => c.trim());
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor$/);

  await page.getByRole('link', { name: 'Regenerate recovery codes' }).click();
  const regenerate = page.getByRole('dialog', { name: 'New recovery codes' });
  await regenerate.getByLabel('Code from your app or a recovery code').fill(first[0]);
  await regenerate.getByLabel('Password').fill(STRONG_PASSWORD);
  await regenerate.getByRole('button', { name: 'Generate new codes' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor\/new-codes$/);
  const second = (await page.getByRole('list', { name: 'Recovery codes' }).locator('code').allTextContents()).map((c) => c.trim());
  expect(second).toHaveLength(10);
  expect(second).not.toContain(first[1]);
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor$/);
  await page.goto('/settings/two-factor/new-codes');
  await expect(page.getByText(/no longer shown/)).toBeVisible();
});

test('five wrong codes send the person back to sign in, told why and for how long', async ({ page, browser, baseURL }) => {
  // The account is set up in a browser with JavaScript; the attempts come without it.
  const setup = await browser.newContext({ baseURL, javaScriptEnabled: true });
  const setupPage = await setup.newPage();
  const email = await flows.signUp(setupPage);
  const { key } = await flows.enableTwoFactor(setupPage);
  await setup.close();

  await signInWithPassword(page, email);
  const right = flows.nextCode(key);
  const wrong = right === '123456' ? '654321' : '123456';
  for (let i = 0; i < 4; i++) {
    await page.getByLabel('Two-factor authentication code').fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('alert')).toHaveText(
      'That code is not valid. Check your authenticator app and try again.',
    );
  }
  await page.getByLabel('Two-factor authentication code').fill(wrong);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/signin\?ended=locked&retry=900$/);
  await expect(page.getByRole('status')).toHaveText(
    'Too many wrong codes. For your safety, signing in to this account is paused: try again in 15 minutes.',
  );
  await page.screenshot({ path: 'screenshots/no-javascript-lockout.png', fullPage: true });
});
