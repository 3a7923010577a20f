/**
 * Signing in through an identity provider (issue 11): the OpenID provider, and the GitHub
 * and Facebook stand-ins, with JavaScript and without. A provider sign-in is a first
 * factor only: with two-factor authentication on it lands on the same code prompt.
 */
import type { Page } from '@playwright/test';
import { enterCode, expect, hydrated, nextCode, shot, signIn, signOut, signUp, test } from './flows';
import { STRONG_PASSWORD, totp, uniqueEmail } from './helpers';
import {
  answerAtStandin,
  emailOf,
  enableTwoFactorWithOidc,
  expectSignedInAs,
  expectSignedOut,
  loginAtOidc,
  methodRow,
  OIDC,
  press,
  uniqueLogin,
  viaOidc,
} from './social-flows';

const CONNECTED_ON = /^Connected on \d{1,2} [A-Z][a-z]+ \d{4}\.$/;
const EMAIL_EXISTS = `An account with this email already exists. Sign in with your password, then connect ${OIDC} under Settings → Sign-in methods.`;

/** The account's own data, which only a full session may read (a server function). */
async function methodsApiStatus(page: Page): Promise<number> {
  const res = await page.request.post('/api/load_sign_in_methods', { maxRedirects: 0 });
  return res.status();
}

/** On the code prompt, with no way past it but a code. */
async function expectOnlyTheCodePrompt(page: Page): Promise<void> {
  await expect(page).toHaveURL(/\/signin\/code\?next=%2Fsettings$/);
  await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeVisible();
  await expectSignedOut(page);
  for (const path of ['/settings', '/settings/sign-in-methods', '/settings/two-factor']) {
    await page.goto(path);
    await expect(page, `${path} is not reachable before the code`).toHaveURL(/\/signin\/code$/);
  }
  expect(await methodsApiStatus(page), 'server functions refuse a session before the code').toBe(401);
}

test.describe('with JavaScript', () => {
  test('1. sign up through the OpenID provider, sign out, sign in again into the same account', async ({ page }) => {
    const login = uniqueLogin();
    await page.goto('/signin');
    await hydrated(page);
    const buttons = page.locator('.providers button');
    await expect(buttons).toHaveText(['Sign in with OpenID Test', 'Sign in with GitHub', 'Sign in with Facebook']);
    await shot(page, 'sign-in-providers');

    // The sign-up page has the same buttons; a new person gets an account there.
    await viaOidc(page, login, { path: '/signup' });
    await expectSignedInAs(page, emailOf(login));
    await expect(page.locator('dl.facts')).toContainText(emailOf(login));
    await signOut(page);
    await expectSignedOut(page);

    // The provider remembers this browser, so its form is skipped: straight back, signed in.
    await viaOidc(page, null);
    await expectSignedInAs(page, emailOf(login));
    // One account: it has no password and exactly the one provider.
    await page.goto('/settings/sign-in-methods');
    await expect(page.getByRole('button', { name: 'Set password' })).toBeVisible();
    await expect(methodRow(page, OIDC).locator('p').first()).toHaveText(CONNECTED_ON);
  });

  test('2. an account without a password enables 2FA by confirming with the provider', async ({ page }) => {
    const login = uniqueLogin();
    await viaOidc(page, login, { path: '/signup' });
    await expectSignedInAs(page, emailOf(login));

    await page.getByRole('link', { name: 'Two-Factor Auth' }).click();
    await expect(page).toHaveURL(/\/settings\/two-factor$/);
    await hydrated(page);
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByText('Your account has no password, so confirm it’s you by signing in again.')).toBeVisible();
    await expect(dialog.getByRole('button', { name: `Confirm with ${OIDC}` })).toBeVisible();
    // No password to type: there is none.
    await expect(dialog.getByLabel('Password')).toHaveCount(0);
    await expect(dialog.getByTestId('setup-key')).toBeVisible();
    await shot(page, 'enable-dialog-confirm-provider');
    const key = (await dialog.getByTestId('setup-key').textContent())!.trim();

    // The code alone is not enough: Enable refuses until the provider has confirmed.
    await dialog.getByLabel('Verification code').fill(totp(key));
    await dialog.getByRole('button', { name: 'Enable', exact: true }).click();
    await expect(dialog.getByRole('alert')).toHaveText("Confirm it's you with your sign-in provider first, then try again.");

    // Another account at the provider does not count.
    await dialog.getByRole('button', { name: `Confirm with ${OIDC}` }).click();
    await loginAtOidc(page, uniqueLogin('mallory'));
    await expect(page).toHaveURL(/\/settings\/two-factor\/enable\?error=wrong_account&provider=idp$/);
    await expect(dialog.locator('#confirm-provider-error')).toHaveText(`That ${OIDC} account is not the one connected to your account.`);
    await expect(dialog.getByText(`✓ Confirmed with ${OIDC}`)).toHaveCount(0);

    // The provider asks for the login again although it remembers this browser
    // (prompt=login): a fresh sign-in, not a silent round trip.
    await dialog.getByRole('button', { name: `Confirm with ${OIDC}` }).click();
    await loginAtOidc(page, login);
    await expect(page).toHaveURL(/\/settings\/two-factor\/enable$/);
    await hydrated(page);
    await expect(dialog.getByRole('status').filter({ hasText: `✓ Confirmed with ${OIDC}` })).toBeVisible();
    await expect(dialog.getByRole('button', { name: `Confirm with ${OIDC}` })).toHaveCount(0);
    // The same setup is still pending: the key did not change on the way.
    expect((await dialog.getByTestId('setup-key').textContent())!.trim()).toBe(key);

    await dialog.getByLabel('Verification code').fill(totp(key));
    await dialog.getByRole('button', { name: 'Enable', exact: true }).click();
    const list = dialog.getByRole('list', { name: 'Recovery codes' });
    await expect(list).toBeVisible();
    await expect(list.locator('code')).toHaveCount(10);
    await dialog.getByRole('link', { name: 'Done' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByText(/10 of 10 recovery codes left/)).toBeVisible();
  });

  test('3. with 2FA on, a provider sign-in lands on the code prompt; an app code or a recovery code finishes it', async ({ page }) => {
    const login = uniqueLogin();
    const email = emailOf(login);
    await viaOidc(page, login, { path: '/signup' });
    await expectSignedInAs(page, email);
    const { key, codes } = await enableTwoFactorWithOidc(page, login);
    await page.goto('/settings/two-factor');
    await hydrated(page);
    await signOut(page);

    await viaOidc(page, null);
    await expectOnlyTheCodePrompt(page);
    await hydrated(page);
    await enterCode(page, nextCode(key));
    await expectSignedInAs(page, email);
    await signOut(page);

    await viaOidc(page, null);
    await expectOnlyTheCodePrompt(page);
    await page.getByRole('link', { name: 'Lost your phone? Use a recovery code' }).click();
    await expect(page.getByText('Enter one of the recovery codes you saved')).toBeVisible();
    await hydrated(page);
    await enterCode(page, codes[0]);
    await expectSignedInAs(page, email);
    await page.goto('/settings/two-factor');
    await expect(page.getByText(/9 of 10 recovery codes left/)).toBeVisible();
  });

  test('4. a password account connects the provider, signs in with it, and disconnects it', async ({ page }) => {
    const email = await signUp(page);
    const login = uniqueLogin('link');
    await page.getByRole('link', { name: 'Sign-in methods' }).click();
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    const row = methodRow(page, OIDC);
    await expect(row.getByText('Not connected.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Change password' })).toBeVisible();

    await press(page, '/settings/sign-in-methods', `Connect ${OIDC}`);
    await loginAtOidc(page, login);
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    await hydrated(page);
    await expect(row.locator('p').first()).toHaveText(CONNECTED_ON);
    await expect(row.getByRole('button', { name: `Disconnect ${OIDC}`, exact: true })).toBeVisible();
    await expect(row.getByRole('button', { name: `Connect ${OIDC}`, exact: true })).toHaveCount(0);
    for (const other of ['GitHub', 'Facebook']) {
      await expect(methodRow(page, other).getByText('Not connected.')).toBeVisible();
    }
    await shot(page, 'sign-in-methods');

    await signOut(page);
    await viaOidc(page, null);
    // The password account, not a new one for the provider's address.
    await expectSignedInAs(page, email);

    await page.goto('/settings/sign-in-methods');
    await hydrated(page);
    await row.getByRole('button', { name: `Disconnect ${OIDC}`, exact: true }).click();
    await expect(row.getByText('Not connected.')).toBeVisible();
    await expect(row.getByRole('button', { name: `Connect ${OIDC}`, exact: true })).toBeVisible();
    await expect(row.getByRole('button', { name: `Disconnect ${OIDC}`, exact: true })).toHaveCount(0);

    // The link is gone: the same provider account now makes an account of its own.
    await signOut(page);
    await viaOidc(page, null);
    await expectSignedInAs(page, emailOf(login));
  });

  test('5. the last way to sign in cannot be disconnected until a password is set', async ({ page }) => {
    const login = uniqueLogin();
    const email = emailOf(login);
    await viaOidc(page, login, { path: '/signup' });
    await expectSignedInAs(page, email);
    await page.goto('/settings/sign-in-methods');
    await hydrated(page);
    const row = methodRow(page, OIDC);
    await expect(row.getByText(`${OIDC} is your only way to sign in, so it cannot be disconnected. Set a password first.`)).toBeVisible();
    await expect(page.getByRole('button', { name: /^Disconnect/ })).toHaveCount(0);
    await expect(page.getByText('Your account has no password: you sign in through a provider.', { exact: false })).toBeVisible();

    // Nor around the page: the server refuses to remove the last way in.
    const res = await page.request.post('/api/disconnect_provider', { form: { provider: 'idp' }, maxRedirects: 0 });
    expect(res.status()).toBe(409);
    expect(await res.text()).toContain('is your only way to sign in');
    await page.reload();
    await expect(row.locator('p').first()).toHaveText(CONNECTED_ON);

    await page.getByLabel('New password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await expect(page).toHaveURL(/\/settings\/sign-in-methods\?done=password_set$/);
    await expect(page.getByRole('status').filter({ hasText: 'Your password is set. You can now sign in with it.' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Change password' })).toBeVisible();
    await expect(row.getByText('is your only way to sign in')).toHaveCount(0);
    await hydrated(page);
    await row.getByRole('button', { name: `Disconnect ${OIDC}`, exact: true }).click();
    await expect(row.getByText('Not connected.')).toBeVisible();

    // The password is now the only way in, and it works.
    await signOut(page);
    await signIn(page, email);
    await expectSignedInAs(page, email);
  });

  test('6. a provider address matching a password account does not sign into it, verified or not', async ({ page }) => {
    const email = emailOf(uniqueLogin('owner'));
    await signUp(page, email);
    await signOut(page);

    for (const login of [`unverified:${email}`, email]) {
      // A provider session from the previous round would skip the form.
      await page.context().clearCookies();
      await viaOidc(page, login);
      await expect(page, login).toHaveURL(/\/signin\?error=email_exists&provider=idp$/);
      await expect(page.getByRole('alert')).toHaveText(EMAIL_EXISTS);
      await expectSignedOut(page);
      await page.goto('/settings');
      await expect(page).toHaveURL(/\/signin\?next=%2Fsettings$/);
    }

    // Nothing was linked to the account either.
    await signIn(page, email);
    await expectSignedInAs(page, email);
    await page.goto('/settings/sign-in-methods');
    await expect(methodRow(page, OIDC).getByText('Not connected.')).toBeVisible();
  });

  for (const name of ['GitHub', 'Facebook']) {
    test(`7. sign up and sign in again through the ${name} stand-in`, async ({ page }) => {
      const login = uniqueLogin(name.toLowerCase());
      await press(page, '/signup', `Sign in with ${name}`);
      await answerAtStandin(page, login);
      await expectSignedInAs(page, emailOf(login));
      await signOut(page);

      await press(page, '/signin', `Sign in with ${name}`);
      await answerAtStandin(page, login);
      await expectSignedInAs(page, emailOf(login));
      await page.goto('/settings/sign-in-methods');
      await expect(methodRow(page, name).locator('p').first()).toHaveText(CONNECTED_ON);
      await expect(methodRow(page, name).getByText(`${name} is your only way to sign in`)).toBeVisible();
      await expect(methodRow(page, OIDC).getByText('Not connected.')).toBeVisible();

      // It cannot confirm a fresh sign-in, so the 2FA dialog asks for a password first.
      await press(page, '/settings/two-factor', 'Enable');
      const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
      await expect(dialog.getByRole('status')).toHaveText(
        'Your account signs in only through a provider that cannot confirm a fresh sign-in. Set a password first, then come back.',
      );
      await expect(dialog.getByRole('button', { name: /^Confirm with/ })).toHaveCount(0);
    });
  }

  test('7. cancelling at GitHub comes back to sign in, told so', async ({ page }) => {
    await press(page, '/signin', 'Sign in with GitHub');
    await answerAtStandin(page, uniqueLogin('github'), 'Cancel');
    await expect(page).toHaveURL(/\/signin\?error=declined&provider=github$/);
    await expect(page.getByRole('alert')).toHaveText('Signing in with GitHub was cancelled.');
    await expectSignedOut(page);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  async function signOutNoJs(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/signin$/);
  }

  test('sign up through the OpenID provider', async ({ page }) => {
    const login = uniqueLogin('nojs');
    await viaOidc(page, login, { path: '/signup', js: false });
    await expectSignedInAs(page, emailOf(login));
    await signOutNoJs(page);
    await viaOidc(page, null, { js: false });
    await expectSignedInAs(page, emailOf(login));
  });

  test('a password account connects and disconnects the provider', async ({ page }) => {
    const email = uniqueEmail('nojs-link');
    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await expectSignedInAs(page, email);

    await press(page, '/settings/sign-in-methods', `Connect ${OIDC}`, { js: false });
    await loginAtOidc(page, uniqueLogin('nojs-link'));
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    const row = methodRow(page, OIDC);
    await expect(row.locator('p').first()).toHaveText(CONNECTED_ON);

    await signOutNoJs(page);
    await viaOidc(page, null, { js: false });
    await expectSignedInAs(page, email);

    await page.goto('/settings/sign-in-methods');
    await row.getByRole('button', { name: `Disconnect ${OIDC}`, exact: true }).click();
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    await expect(row.getByText('Not connected.')).toBeVisible();
    await expect(row.getByRole('button', { name: `Connect ${OIDC}`, exact: true })).toBeVisible();
  });

  test('with 2FA on, a provider sign-in stops at the code prompt until the code', async ({ page }) => {
    const login = uniqueLogin('nojs-2fa');
    const email = emailOf(login);
    await viaOidc(page, login, { path: '/signup', js: false });
    await expectSignedInAs(page, email);
    // Enabled without JavaScript too: the confirmation round trip and the code are forms.
    const { key } = await enableTwoFactorWithOidc(page, login, { js: false });
    await expect(page).toHaveURL(/\/settings\/two-factor\/new-codes$/);
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page).toHaveURL(/\/settings\/two-factor$/);
    await signOutNoJs(page);

    await viaOidc(page, null, { js: false });
    await expectOnlyTheCodePrompt(page);
    await page.getByLabel('Two-factor authentication code').fill(nextCode(key));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedInAs(page, email);
  });
});
