/**
 * Signing in through an identity provider (issue 11): the OpenID provider, and the GitHub
 * and Facebook stand-ins, with JavaScript and without. A provider sign-in is a first
 * factor only: with two-factor authentication on it lands on the same code prompt.
 */
import type { Page } from '@playwright/test';
import {
  confirmEmail,
  enableTwoFactor,
  enterCode,
  expect,
  hydrated,
  nextCode,
  shot,
  signIn,
  signOut,
  signUp,
  test,
} from './flows';
import { STRONG_PASSWORD, totp, uniqueEmail } from './helpers';
import { expectNoMail, linkIn, waitForMail } from './mail';
import {
  answerAtStandin,
  connectFromMethods,
  disconnectFromMethods,
  emailOf,
  enableTwoFactorWithOidc,
  expectSignedInAs,
  expectSignedOut,
  loginAtOidc,
  METHODS,
  methodRow,
  OIDC,
  openPanel,
  press,
  uniqueLogin,
  viaOidc,
} from './social-flows';

const CONNECTED_ON = /^Connected on \d{1,2} [A-Z][a-z]+ \d{4}\.$/;
const EMAIL_EXISTS = `An account with this email already exists. Sign in with your password, then connect ${OIDC} under Settings → Sign-in methods.`;
const FINISH = 'Confirm your email address to finish signing up';
const notice = (what: string) => `Security notice: ${what}`;

/** The sentence a refused Connect brings back to the top of the tab. */
const methodsError = (page: Page) => page.locator('#methods-error');

/**
 * A Facebook sign-up (Facebook proves no address): the stand-in, then /signup/email,
 * which suggests the provider's address. Sends the link to `email` (default: the one
 * suggested) and returns the mailed /signup/finish link.
 */
async function facebookSignUpToLink(page: Page, login: string, { email = emailOf(login), js = true } = {}): Promise<string> {
  await press(page, '/signup', 'Sign in with Facebook', { js });
  await answerAtStandin(page, login);
  await expect(page).toHaveURL(/\/signup\/email$/);
  await expect(page.getByRole('heading', { name: 'Confirm your email address', level: 1 })).toBeVisible();
  await expectSignedOut(page);
  const field = page.getByLabel('Email');
  await expect(field).toHaveValue(emailOf(login));
  if (js) await hydrated(page);
  if (email !== emailOf(login)) await field.fill(email);
  await page.getByRole('button', { name: 'Send the link', exact: true }).click();
  await expect(page).toHaveURL(/\/signup\/email\?sent=1$/);
  await expect(page.getByRole('status')).toHaveText(
    `We sent a link to ${email}. Open it in this browser within 30 minutes to finish signing up.`,
  );
  return linkIn(await waitForMail(email, FINISH), '/signup/finish');
}

/** Opens the /signup/finish link and presses "Create my account". */
async function finishSignUp(page: Page, link: string, { js = true } = {}): Promise<void> {
  await page.goto(link);
  if (js) await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Finish signing up' })).toBeVisible();
  await page.getByRole('button', { name: 'Create my account', exact: true }).click();
}

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
    // The provider proved the address to itself, not to Gatehouse: its link does.
    await confirmEmail(page, emailOf(login));

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
    await confirmEmail(page, email);
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

  test('4. a password account connects the provider with its password, signs in with it, and disconnects it', async ({ page, browser, baseURL }) => {
    const email = await signUp(page);
    const login = uniqueLogin('link');
    await page.getByRole('link', { name: 'Sign-in methods' }).click();
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    const row = methodRow(page, OIDC);
    await expect(row.getByText('Not connected.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Change password' })).toBeVisible();

    // Signed in in a second browser too: connecting is a factor change.
    const other = await browser.newContext({ baseURL });
    const otherPage = await other.newPage();
    await signIn(otherPage, email);
    await expect(otherPage).toHaveURL(/\/settings$/);

    // The panel opens in place, asking for the password; Cancel closes it.
    await hydrated(page);
    await row.getByRole('link', { name: `Connect ${OIDC}`, exact: true }).click();
    await expect(page).toHaveURL(/\/settings\/sign-in-methods\?connect=idp$/);
    await expect(row.getByText(`Confirm it’s you to connect ${OIDC}. Your other sessions will be signed out.`)).toBeVisible();
    await expect(row.getByLabel('Code from your app or a recovery code')).toHaveCount(0);
    await row.getByRole('link', { name: 'Cancel' }).click();
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    await expect(row.getByLabel('Password', { exact: true })).toHaveCount(0);
    await expect(row.getByRole('link', { name: `Connect ${OIDC}`, exact: true })).toBeVisible();

    // A wrong password is told at the top of the tab, and nothing is connected.
    await connectFromMethods(page, OIDC, { password: 'not-the-Right-password-3' });
    await expect(page).toHaveURL(/\/settings\/sign-in-methods\?error=wrong_password&provider=idp$/);
    await expect(methodsError(page)).toHaveText(`That password is not right, so ${OIDC} was not connected. Please try again.`);
    await expect(row.getByText('Not connected.')).toBeVisible();

    await connectFromMethods(page, OIDC);
    await loginAtOidc(page, login);
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    await hydrated(page);
    await expect(row.locator('p').first()).toHaveText(CONNECTED_ON);
    await expect(row.getByRole('link', { name: `Disconnect ${OIDC}`, exact: true })).toBeVisible();
    await expect(row.getByRole('link', { name: `Connect ${OIDC}`, exact: true })).toHaveCount(0);
    for (const other of ['GitHub', 'Facebook']) {
      await expect(methodRow(page, other).getByText('Not connected.')).toBeVisible();
    }
    await shot(page, 'sign-in-methods');
    const connected = await waitForMail(email, notice(`${OIDC} was connected to your account`));
    expect(connected.text).toContain('Your other sessions were signed out.');
    await otherPage.reload();
    await expect(otherPage, 'the other session ended').toHaveURL(/\/signin/);
    await other.close();

    await signOut(page);
    await viaOidc(page, null);
    // The password account, not a new one for the provider's address.
    await expectSignedInAs(page, email);

    // Disconnecting is confirmed the same way.
    await disconnectFromMethods(page, OIDC, { password: 'not-the-Right-password-3' });
    await expect(row.getByRole('alert')).toBeVisible();
    await expect(row.locator('p').first()).toHaveText(CONNECTED_ON);
    await row.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await row.getByRole('button', { name: `Disconnect ${OIDC}`, exact: true }).click();
    await expect(row.getByText('Not connected.')).toBeVisible();
    await expect(row.getByRole('link', { name: `Connect ${OIDC}`, exact: true })).toBeVisible();
    await expect(row.getByRole('link', { name: `Disconnect ${OIDC}`, exact: true })).toHaveCount(0);
    await waitForMail(email, notice(`${OIDC} was disconnected from your account`));

    // The link is gone: the same provider account now makes an account of its own.
    await signOut(page);
    await viaOidc(page, null);
    await expectSignedInAs(page, emailOf(login));
  });

  test('4. with 2FA on, connecting and disconnecting also ask for a code', async ({ page }) => {
    const email = await signUp(page);
    const { key, codes } = await enableTwoFactor(page);
    const login = uniqueLogin('link2fa');

    const row = await openPanel(page, OIDC, 'connect');
    await expect(row.getByLabel('Password', { exact: true })).toBeVisible();
    await expect(row.getByLabel('Code from your app or a recovery code')).toBeVisible();
    await expect(row.getByRole('button', { name: `Continue to ${OIDC}`, exact: true })).toBeVisible();
    await shot(page, 'sign-in-methods-connect');

    // The right password and a wrong code: told, and nothing is connected.
    const wrong = nextCode(key) === '000000' ? '111111' : '000000';
    await row.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await row.getByLabel('Code from your app or a recovery code').fill(wrong);
    await row.getByRole('button', { name: `Continue to ${OIDC}`, exact: true }).click();
    await expect(page).toHaveURL(/\/settings\/sign-in-methods\?error=wrong_code&provider=idp$/);
    await expect(methodsError(page)).toHaveText(
      `Enter the current code from your authenticator app, or a recovery code, to connect ${OIDC}.`,
    );
    await expect(row.getByText('Not connected.')).toBeVisible();

    await connectFromMethods(page, OIDC, { code: nextCode(key) });
    await loginAtOidc(page, login);
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    await expect(row.locator('p').first()).toHaveText(CONNECTED_ON);
    await waitForMail(email, notice(`${OIDC} was connected to your account`));

    const panel = await openPanel(page, OIDC, 'disconnect');
    await expect(panel.getByText(`Confirm it’s you to disconnect ${OIDC}.`, { exact: false })).toBeVisible();
    await expect(panel.getByLabel('Code from your app or a recovery code')).toBeVisible();
    await shot(page, 'sign-in-methods-disconnect');
    await panel.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await panel.getByLabel('Code from your app or a recovery code').fill(codes[0]);
    await panel.getByRole('button', { name: `Disconnect ${OIDC}`, exact: true }).click();
    await expect(row.getByText('Not connected.')).toBeVisible();
    await waitForMail(email, notice(`${OIDC} was disconnected from your account`));
    await page.goto('/settings/two-factor');
    await expect(page.getByText(/9 of 10 recovery codes left/)).toBeVisible();
  });

  test('4. an account whose address is not confirmed can add no way in until it is', async ({ page }) => {
    const email = await signUp(page, uniqueEmail('unconfirmed'), { verify: false });
    await connectFromMethods(page, OIDC);
    await expect(page).toHaveURL(/\/settings\/sign-in-methods\?error=verify_email_first&provider=idp$/);
    await expect(methodsError(page)).toHaveText(
      `Confirm your email address before connecting ${OIDC}: open the link we sent you, or ask for a new one under Settings → Profile.`,
    );
    await expect(methodRow(page, OIDC).getByText('Not connected.')).toBeVisible();

    await press(page, '/settings/two-factor', 'Enable');
    await expect(page.locator('#start-error')).toHaveText(
      'Confirm your email address first: open the link we sent you, or ask for a new one with “Send again”.',
    );
    await expect(page.getByRole('dialog')).toHaveCount(0);

    // Confirmed, the same steps work.
    await confirmEmail(page, email);
    await connectFromMethods(page, OIDC);
    await loginAtOidc(page, uniqueLogin('late'));
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    await expect(methodRow(page, OIDC).locator('p').first()).toHaveText(CONNECTED_ON);
  });

  test('5. an account without a password sets one after confirming with the provider; then it may disconnect', async ({ page }) => {
    const login = uniqueLogin();
    const email = emailOf(login);
    await viaOidc(page, login, { path: '/signup' });
    await expectSignedInAs(page, email);
    // Notices go to a confirmed address only.
    await confirmEmail(page, email);
    await page.goto(METHODS);
    await hydrated(page);
    const row = methodRow(page, OIDC);
    await expect(row.getByText(`${OIDC} is your only way to sign in, so it cannot be disconnected. Set a password first.`)).toBeVisible();
    await expect(page.getByRole('link', { name: /^Disconnect/ })).toHaveCount(0);
    await expect(page.getByText('Your account has no password: you sign in through a provider.', { exact: false })).toBeVisible();
    const password = page.getByRole('region', { name: 'Password' });
    await expect(password.getByRole('button', { name: `Confirm with ${OIDC}`, exact: true })).toBeVisible();
    await shot(page, 'sign-in-methods-set-password');

    // Not before the provider confirms a fresh sign-in.
    await password.getByLabel('New password').fill(STRONG_PASSWORD);
    await password.getByRole('button', { name: 'Set password' }).click();
    await expect(password.getByRole('alert')).toHaveText("Confirm it's you with your sign-in provider first, then try again.");

    await password.getByRole('button', { name: `Confirm with ${OIDC}`, exact: true }).click();
    await loginAtOidc(page, login);
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    await hydrated(page);
    await expect(password.getByRole('status').filter({ hasText: `✓ Confirmed with ${OIDC}` })).toBeVisible();
    await expect(password.getByRole('button', { name: `Confirm with ${OIDC}` })).toHaveCount(0);

    // Nor around the page: confirmed or not, the server refuses to remove the last way in.
    const res = await page.request.post('/api/disconnect_provider', {
      form: { provider: 'idp', password: '', code: '' },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(409);
    expect(await res.text()).toContain('is your only way to sign in');

    await password.getByLabel('New password').fill(STRONG_PASSWORD);
    await password.getByRole('button', { name: 'Set password' }).click();
    await expect(page).toHaveURL(/\/settings\/sign-in-methods\?done=password_set$/);
    await expect(page.getByRole('status').filter({ hasText: 'Your password is set. You can now sign in with it.' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Change password' })).toBeVisible();
    await expect(row.getByText('is your only way to sign in')).toHaveCount(0);
    await waitForMail(email, notice('A password was set for your account'));

    await disconnectFromMethods(page, OIDC);
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

    // Verified at the provider: refused, and told to connect it instead.
    await viaOidc(page, email);
    await expect(page).toHaveURL(/\/signin\?error=email_exists&provider=idp$/);
    await expect(page.getByRole('alert')).toHaveText(EMAIL_EXISTS);
    await expectSignedOut(page);
    await page.goto('/settings');
    await expect(page).toHaveURL(/\/signin\?next=%2Fsettings$/);

    // Not verified there: the address must be proved, and its owner is told instead, with
    // the same answer on the page as for a free address.
    await page.context().clearCookies();
    await viaOidc(page, `unverified:${email}`);
    await expect(page).toHaveURL(/\/signup\/email$/);
    await expect(page.getByLabel('Email')).toHaveValue(email);
    await hydrated(page);
    await page.getByRole('button', { name: 'Send the link', exact: true }).click();
    await expect(page).toHaveURL(/\/signup\/email\?sent=1$/);
    await expect(page.getByRole('status')).toHaveText(
      `We sent a link to ${email}. Open it in this browser within 30 minutes to finish signing up.`,
    );
    const told = await waitForMail(email, 'Someone tried to sign up with your email address');
    expect(told.text).toContain(`Someone signing up with ${OIDC} gave this address`);
    await expectNoMail(email, FINISH, 0);
    await expectSignedOut(page);

    // Nothing was linked to the account either.
    await signIn(page, email);
    await expectSignedInAs(page, email);
    await page.goto(METHODS);
    await expect(methodRow(page, OIDC).getByText('Not connected.')).toBeVisible();
  });

  test('7. sign up and sign in again through the GitHub stand-in', async ({ page }) => {
    const name = 'GitHub';
    const login = uniqueLogin('github');
    await press(page, '/signup', `Sign in with ${name}`);
    await answerAtStandin(page, login);
    await expectSignedInAs(page, emailOf(login));
    await signOut(page);

    await press(page, '/signin', `Sign in with ${name}`);
    await answerAtStandin(page, login);
    await expectSignedInAs(page, emailOf(login));
    await page.goto(METHODS);
    await expect(methodRow(page, name).locator('p').first()).toHaveText(CONNECTED_ON);
    await expect(methodRow(page, name).getByText(`${name} is your only way to sign in`)).toBeVisible();
    await expect(methodRow(page, OIDC).getByText('Not connected.')).toBeVisible();

    // It cannot confirm a fresh sign-in, so the 2FA dialog asks for a password first.
    await confirmEmail(page, emailOf(login));
    await press(page, '/settings/two-factor', 'Enable');
    const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
    await expect(dialog.getByRole('status')).toHaveText(
      'Your account signs in only through a provider that cannot confirm a fresh sign-in. Set a password first, then come back.',
    );
    await expect(dialog.getByRole('button', { name: /^Confirm with/ })).toHaveCount(0);
  });

  test('7. a Facebook sign-up proves its address with a mailed link, then signs in directly', async ({ page, browser, baseURL }) => {
    const login = uniqueLogin('facebook');
    const email = emailOf(login);
    await press(page, '/signup', 'Sign in with Facebook');
    await answerAtStandin(page, login);
    await expect(page).toHaveURL(/\/signup\/email$/);
    await hydrated(page);
    await expect(page.getByText('Facebook did not confirm your email address.', { exact: false })).toBeVisible();
    await expect(page.getByLabel('Email')).toHaveValue(email);
    await shot(page, 'signup-email');
    await page.getByRole('button', { name: 'Send the link', exact: true }).click();
    await expect(page).toHaveURL(/\/signup\/email\?sent=1$/);
    await expect(page.getByRole('status')).toHaveText(
      `We sent a link to ${email}. Open it in this browser within 30 minutes to finish signing up.`,
    );
    await shot(page, 'signup-email-sent');
    await expectSignedOut(page);
    const mail = await waitForMail(email, FINISH);
    expect(mail.text).toContain('in the browser you signed up in');
    const link = linkIn(mail, '/signup/finish');

    // Opened in another browser, the link makes nothing.
    const elsewhere = await (await browser.newContext({ baseURL })).newPage();
    await finishSignUp(elsewhere, link);
    await expect(elsewhere.getByRole('alert')).toHaveText(
      'Open this link in the browser you signed up in, within 30 minutes of signing up.',
    );
    await expectSignedOut(elsewhere);
    await elsewhere.context().close();

    await finishSignUp(page, link);
    await expectSignedInAs(page, email);
    await expect(page.locator('dl.facts')).toContainText(email);
    await expect(page.getByText('Not confirmed', { exact: true })).toHaveCount(0);
    await page.goto(METHODS);
    await expect(methodRow(page, 'Facebook').locator('p').first()).toHaveText(CONNECTED_ON);
    await expect(methodRow(page, 'Facebook').getByText('Facebook is your only way to sign in')).toBeVisible();
    // Facebook cannot confirm a fresh sign-in: the first password comes by mail.
    await hydrated(page);
    await page.getByRole('button', { name: 'Email me a link', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: 'We sent a link to your email address. Open it to choose your password.' })).toBeVisible();
    await waitForMail(email, 'Reset your Gatehouse password');

    // The link works once; from now on Facebook signs straight in.
    await finishSignUp(page, link);
    await expect(page.getByRole('alert')).toBeVisible();
    await page.goto('/settings');
    await hydrated(page);
    await signOut(page);
    await press(page, '/signin', 'Sign in with Facebook');
    await answerAtStandin(page, login);
    await expectSignedInAs(page, email);
  });

  test('7. of two round trips begun in two tabs, only the later one completes', async ({ page, context }) => {
    const login = uniqueLogin('github');
    await press(page, '/signin', 'Sign in with GitHub');
    await expect(page).toHaveTitle('Authorize Gatehouse');
    const later = await context.newPage();
    await press(later, '/signin', 'Sign in with GitHub');

    await answerAtStandin(page, login);
    await expect(page).toHaveURL(/\/signin\?error=expired&provider=github$/);
    await expect(page.getByRole('alert')).toHaveText('That sign-in with GitHub expired or was already used. Please try again.');
    await expectSignedOut(page);

    await answerAtStandin(later, login);
    await expectSignedInAs(later, emailOf(login));
    await later.close();
  });

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

  test('a password account connects the provider with its password, and disconnects it', async ({ page }) => {
    const email = uniqueEmail('nojs-link');
    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await expectSignedInAs(page, email);
    await confirmEmail(page, email, { js: false });

    // The link opens the panel: a page of its own without JavaScript.
    await connectFromMethods(page, OIDC, { password: 'not-the-Right-password-3', js: false });
    await expect(page).toHaveURL(/\/settings\/sign-in-methods\?error=wrong_password&provider=idp$/);
    await expect(methodsError(page)).toHaveText(`That password is not right, so ${OIDC} was not connected. Please try again.`);
    const row = methodRow(page, OIDC);
    await expect(row.getByText('Not connected.')).toBeVisible();

    await connectFromMethods(page, OIDC, { js: false });
    await loginAtOidc(page, uniqueLogin('nojs-link'));
    await expect(page).toHaveURL(/\/settings\/sign-in-methods$/);
    await expect(row.locator('p').first()).toHaveText(CONNECTED_ON);
    await waitForMail(email, notice(`${OIDC} was connected to your account`));

    await signOutNoJs(page);
    await viaOidc(page, null, { js: false });
    await expectSignedInAs(page, email);

    await disconnectFromMethods(page, OIDC, { js: false });
    await expect(page).toHaveURL(/\/settings\/sign-in-methods/);
    await expect(row.getByText('Not connected.')).toBeVisible();
    await expect(row.getByRole('link', { name: `Connect ${OIDC}`, exact: true })).toBeVisible();
    await waitForMail(email, notice(`${OIDC} was disconnected from your account`));
  });

  test('a Facebook sign-up gives its address, and the mailed link opened here makes the account', async ({ page }) => {
    const login = uniqueLogin('nojs-facebook');
    // Another address than the one Facebook suggests: the account gets the one proved.
    const email = uniqueEmail('nojs-facebook');
    const link = await facebookSignUpToLink(page, login, { email, js: false });
    await finishSignUp(page, link, { js: false });
    await expectSignedInAs(page, email);
    await expect(page.getByText('Not confirmed', { exact: true })).toHaveCount(0);
    await page.goto(METHODS);
    await expect(methodRow(page, 'Facebook').locator('p').first()).toHaveText(CONNECTED_ON);
    await signOutNoJs(page);
    await press(page, '/signin', 'Sign in with Facebook', { js: false });
    await answerAtStandin(page, login);
    await expectSignedInAs(page, email);
  });

  test('with 2FA on, a provider sign-in stops at the code prompt until the code', async ({ page }) => {
    const login = uniqueLogin('nojs-2fa');
    const email = emailOf(login);
    await viaOidc(page, login, { path: '/signup', js: false });
    await expectSignedInAs(page, email);
    await confirmEmail(page, email, { js: false });
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
