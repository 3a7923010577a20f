/**
 * Email (issue 13): the verification link, "Forgot password?", changing the password and
 * the address, and the security notices, as received by a real SMTP server (maildev).
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';
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
import { STRONG_PASSWORD, totp, uniqueEmail } from './helpers';
import { expectNoMail, linkIn, Mail, waitForMail } from './mail';
import { emailOf, expectSignedInAs, methodRow, OIDC, uniqueLogin, viaOidc } from './social-flows';

/** A second strong password, for resets and changes. */
const NEW_PASSWORD = 'lantern-Orbit-shelf-meadow-47';

const VERIFY = 'Confirm your email address';
const RESET = 'Reset your Gatehouse password';
const CONFIRM_NEW = 'Confirm your new email address';
const notice = (what: string) => `Security notice: ${what}`;

/** The Profile banner of an unconfirmed address. */
const banner = (page: Page) => page.locator('.banner').filter({ hasText: 'Confirm your email address.' });

/** Opens an emailed link and presses its one button (mail scanners only open links). */
async function follow(page: Page, link: string, button: string, { js = true } = {}): Promise<void> {
  await page.goto(link);
  if (js) await hydrated(page);
  await page.getByRole('button', { name: button, exact: true }).click();
}

/** Signs up (signed in afterwards) and confirms the address with the emailed link. */
async function verifiedAccount(page: Page, prefix = 'mail'): Promise<string> {
  return signUp(page, uniqueEmail(prefix));
}

/** What every security notice says besides what happened: when, where, what to do. */
function expectNoticeDetails(mail: Mail): void {
  expect(mail.text).toMatch(/When: .*\d/);
  expect(mail.text).toContain('IP address: 127.0.0.1');
  expect(mail.text).toMatch(/Device: .*Chrom/);
  expect(mail.text).toContain("If this was you, there is nothing to do. If it wasn't you,");
  expect(mail.html).not.toMatch(/<img|src=/i);
}

async function newSignedInContext(browser: Browser, baseURL: string | undefined): Promise<BrowserContext> {
  return browser.newContext({ baseURL });
}

test.describe('with JavaScript', () => {
  test('1. sign up, receive the verification link, open it and press the button: the address is confirmed', async ({ page }) => {
    const email = await signUp(page, uniqueEmail('verify'), { verify: false });
    const first = await waitForMail(email, VERIFY);
    expect(first.text).toContain('Open this link within 24 hours');

    // Until then Profile says so, with the address, and offers the link again.
    await expect(banner(page)).toBeVisible();
    await expect(banner(page)).toContainText(`We sent a link to ${email}.`);
    await expect(page.getByText('Not confirmed', { exact: true })).toBeVisible();
    await shot(page, 'verification-banner');
    await hydrated(page);
    await banner(page).getByRole('button', { name: 'Send again' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'We sent a new link. It works for 24 hours.' })).toBeVisible();
    const second = await waitForMail(email, VERIFY, { count: 2 });
    const link = linkIn(second, '/verify-email');
    expect(link).not.toBe(linkIn(first, '/verify-email'));

    // Opening the link (as a mail scanner would) spends nothing: the button does.
    await page.goto(link);
    await page.goto('/settings');
    await expect(banner(page)).toBeVisible();
    await follow(page, link, 'Confirm my email address');
    await expect(page).toHaveURL(/\/settings\?verification=done$/);
    await expect(page.getByRole('status').filter({ hasText: 'Your email address is confirmed.' })).toBeVisible();
    await expect(page.getByText(email).first()).toBeVisible();
    await expect(banner(page)).toHaveCount(0);
    await expect(page.getByText('Not confirmed', { exact: true })).toHaveCount(0);

    // After a reload too, and the link works once.
    await page.reload();
    await expect(page.locator('dl.facts')).toContainText(email);
    await expect(banner(page)).toHaveCount(0);
    await expect(page.getByText('Not confirmed', { exact: true })).toHaveCount(0);
    await follow(page, link, 'Confirm my email address');
    await expect(page.getByRole('alert')).toHaveText('This link has expired or was already used. Ask for a new one.');
  });

  test('2. forgot password with 2FA on: other sessions end, and signing in still asks for the code', async ({ page, browser, baseURL }) => {
    const email = await verifiedAccount(page, 'reset');
    const { key, codes } = await enableTwoFactor(page);

    // Signed in on a second browser too.
    const other = await newSignedInContext(browser, baseURL);
    const otherPage = await other.newPage();
    await signInToCodePrompt(otherPage, email);
    await enterCode(otherPage, nextCode(key));
    await expect(otherPage).toHaveURL(/\/settings$/);

    await hydrated(page);
    await signOut(page);
    await hydrated(page);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await expect(page).toHaveURL(/\/forgot-password$/);
    await hydrated(page);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page.getByRole('status')).toHaveText(
      'If an account has this email address, we sent it a link to choose a new password. The link works for 30 minutes.',
    );

    const mail = await waitForMail(email, RESET);
    expect(mail.text).toContain('within 30 minutes');
    expect(mail.text).toContain('If you did not ask for this, ignore this message');
    expect(mail.text).toContain('you will still be asked for your code');
    await page.goto(linkIn(mail, '/reset-password'));
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
    await expect(page.getByLabel('New password')).toHaveAttribute('autocomplete', 'new-password');
    await shot(page, 'reset-password');

    // The same policy as sign-up: a weak password is refused and the link stays usable.
    await page.getByLabel('New password').fill('password123');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(page).toHaveURL(/\/reset-password\?token=/);

    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page).toHaveURL(/\/signin\?reset=1$/);
    await expect(page.getByRole('status')).toHaveText(
      'Your password is changed and every session was signed out. Sign in with the new password.',
    );

    // The other browser's session ended.
    await otherPage.reload();
    await expect(otherPage).toHaveURL(/\/signin/);
    await expect(otherPage.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
    await other.close();

    // The old password no longer works; the new one does, and the code is still asked.
    await signIn(page, email);
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(page).toHaveURL(/\/signin$/);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/signin\/code/);
    await hydrated(page);
    await enterCode(page, codes[0]);
    await expect(page).toHaveURL(/\/settings$/);
    await page.goto('/settings/two-factor');
    await expect(page.getByText(/9 of 10 recovery codes left/)).toBeVisible();

    const told = await waitForMail(email, notice('Your password was reset'));
    expect(told.text).toContain('Two-factor authentication is unchanged.');
    expectNoticeDetails(told);
  });

  test('3. a used or unknown reset link gets a clear message; an unknown address gets no mail, an unconfirmed one a link that claims it', async ({ page, browser, baseURL }) => {
    const email = await verifiedAccount(page, 'used');
    await signOut(page);
    await page.goto('/forgot-password');
    await hydrated(page);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page.getByRole('status')).toContainText('we sent it a link');
    const link = linkIn(await waitForMail(email, RESET), '/reset-password');

    // Opened in a second tab before it was used there.
    const second = await (await browser.newContext({ baseURL })).newPage();
    await second.goto(link);
    await hydrated(second);
    await expect(second.getByLabel('New password')).toBeVisible();

    await page.goto(link);
    await hydrated(page);
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page).toHaveURL(/\/signin\?reset=1$/);

    // The form still on screen in the second tab: refused when sent.
    await second.getByLabel('New password').fill('another-Quiet-harbor-lamp-58');
    await second.getByRole('button', { name: 'Set the new password' }).click();
    await expect(second.getByRole('alert')).toHaveText('This link has expired or was already used. Ask for a new one.');
    await second.context().close();

    // Opened again: no form, a clear message and a way to ask for a new link.
    for (const path of [link, '/reset-password?token=not-a-real-token', '/reset-password']) {
      await page.goto(path);
      await hydrated(page);
      await expect(page.getByRole('alert')).toHaveText('This link has expired or was already used.');
      await expect(page.getByLabel('New password')).toHaveCount(0);
      await page.getByRole('link', { name: 'Ask for a new link' }).click();
      await expect(page).toHaveURL(/\/forgot-password$/);
    }

    // The password set with the link is the one that works.
    await signIn(page, email);
    await expect(page.getByRole('alert')).toBeVisible();
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/settings$/);
    await hydrated(page);
    await signOut(page);

    // An unknown address and an unconfirmed one get the same answer; only the account
    // gets mail, and to an unconfirmed address the link says it claims the account.
    const unconfirmed = await (await browser.newContext({ baseURL })).newPage();
    const unconfirmedEmail = await signUp(unconfirmed, uniqueEmail('unconfirmed'), { verify: false });
    await unconfirmed.context().close();
    const unknown = uniqueEmail('unknown');
    for (const address of [unknown, unconfirmedEmail]) {
      await page.goto('/forgot-password');
      await hydrated(page);
      await page.getByLabel('Email').fill(address);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await expect(page.getByRole('status')).toHaveText(
        'If an account has this email address, we sent it a link to choose a new password. The link works for 30 minutes.',
      );
    }
    const claim = await waitForMail(unconfirmedEmail, RESET);
    expect(claim.text).toContain('This address was never confirmed for that account');
    expect(claim.text).toContain('removes every other way in');
    await expectNoMail(unknown, RESET, 0);
  });

  test('4. change the password on Profile: other sessions end, the notice arrives', async ({ page, browser, baseURL }) => {
    const email = await verifiedAccount(page, 'chpw');
    const other = await newSignedInContext(browser, baseURL);
    const otherPage = await other.newPage();
    await signIn(otherPage, email);
    await expect(otherPage).toHaveURL(/\/settings$/);

    await page.goto('/settings');
    await hydrated(page);
    const section = page.getByRole('region', { name: 'Change password' });
    await section.getByLabel('Current password').fill('wrong-Password-entirely-11');
    await section.getByLabel('New password').fill(NEW_PASSWORD);
    await section.getByRole('button', { name: 'Change password' }).click();
    await expect(section.getByRole('alert')).toBeVisible();

    await section.getByLabel('Current password').fill(STRONG_PASSWORD);
    await section.getByLabel('New password').fill(NEW_PASSWORD);
    await section.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Your password is changed. Your other sessions were signed out.' })).toBeVisible();
    // This session stays.
    await page.reload();
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();

    await otherPage.reload();
    await expect(otherPage).toHaveURL(/\/signin/);
    await other.close();

    const told = await waitForMail(email, notice('Your password was changed'));
    expect(told.text).toContain('your other sessions were signed out');
    expectNoticeDetails(told);

    await hydrated(page);
    await signOut(page);
    await signIn(page, email);
    await expect(page.getByRole('alert')).toBeVisible();
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/settings$/);
  });

  test('5. change the email: the link goes to the new address, the notice to the old one', async ({ page }) => {
    const old = await verifiedAccount(page, 'old');
    const fresh = uniqueEmail('new');
    await page.goto('/settings');
    await hydrated(page);
    const section = page.getByRole('region', { name: 'Change email' });
    await section.getByLabel('New email').fill(fresh);
    await section.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await section.getByRole('button', { name: 'Send the link' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'We sent a link to your new address.' })).toBeVisible();

    const confirm = await waitForMail(fresh, CONFIRM_NEW);
    const asked = await waitForMail(old, notice('Your email address is about to change'));
    expect(asked.text).toContain(`to ${fresh}.`);
    expectNoticeDetails(asked);
    await expectNoMail(old, CONFIRM_NEW, 0);

    // Nothing changes until the link is opened and its button pressed.
    await page.goto(linkIn(confirm, '/confirm-email'));
    await page.goto('/settings');
    await expect(page.locator('dl.facts')).toContainText(old);

    await follow(page, linkIn(confirm, '/confirm-email'), 'Use this email address');
    await expect(page).toHaveURL(/\/settings\?email=changed$/);
    await expect(page.getByRole('status').filter({ hasText: 'Your email address is changed.' })).toBeVisible();
    await expect(page.locator('dl.facts')).toContainText(fresh);
    await expect(page.locator('dl.facts')).not.toContainText(old);
    await expect(page.getByText('Not confirmed', { exact: true })).toHaveCount(0);
    await expect(page.getByRole('navigation', { name: 'Account' })).toContainText(fresh);

    const changed = await waitForMail(old, notice('Your email address was changed'));
    expect(changed.text).toContain(`is now ${fresh}.`);

    // Signing in takes the new address only.
    await hydrated(page);
    await signOut(page);
    await signIn(page, old);
    await expect(page.getByRole('alert')).toBeVisible();
    await signIn(page, fresh);
    await expect(page).toHaveURL(/\/settings$/);
  });

  test('6. notices: 2FA on, a recovery code used (with how many left), 2FA off, a lockout', async ({ page }) => {
    const email = await verifiedAccount(page, 'notices');
    const { codes } = await enableTwoFactor(page);
    const on = await waitForMail(email, notice('Two-factor authentication was turned on'));
    expect(on.text).toContain('Signing in now asks for a code from your authenticator app.');
    expectNoticeDetails(on);

    // A recovery code used: how many are left.
    await signOut(page);
    await signInToCodePrompt(page, email);
    await enterCode(page, codes[0]);
    await expect(page).toHaveURL(/\/settings$/);
    const used = await waitForMail(email, notice('A recovery code was used'));
    expect(used.text).toContain('A recovery code was used to sign in to your Gatehouse account. 9 are left.');
    expectNoticeDetails(used);

    // Turned off (with another recovery code).
    await page.goto('/settings/two-factor/disable');
    await hydrated(page);
    const dialog = page.getByRole('dialog', { name: 'Disable two-factor authentication' });
    await dialog.getByLabel('Code from your app or a recovery code').fill(codes[1]);
    await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
    await dialog.getByRole('button', { name: 'Disable' }).click();
    await expect(dialog).toBeHidden();
    const off = await waitForMail(email, notice('Two-factor authentication was turned off'));
    expect(off.text).toContain('Signing in now asks only for your password.');
    expect(off.text).toContain('turn two-factor authentication on again');
    expectNoticeDetails(off);
    // As received: the HTML, as a mail client shows it.
    const mailPage = await page.context().newPage();
    await mailPage.setViewportSize({ width: 720, height: 600 });
    await mailPage.setContent(off.html);
    await expect(mailPage.getByText('Two-factor authentication was turned off for your Gatehouse account.')).toBeVisible();
    await mailPage.screenshot({ path: 'screenshots/notice-email.png', fullPage: true });
    await mailPage.close();

    // On again, then five wrong codes: a lockout, and its notice.
    const { key } = await enableTwoFactor(page);
    await waitForMail(email, notice('Two-factor authentication was turned on'), { count: 2 });
    await signOut(page);
    await signInToCodePrompt(page, email);
    const wrong = [nextCode(key), totp(key)].includes('123456') ? '654321' : '123456';
    for (let i = 0; i < 5; i++) {
      await enterCode(page, wrong);
      if (i < 4) await expect(page.getByRole('alert')).toContainText('That code is not valid.');
    }
    await expect(page).toHaveURL(/\/signin\?ended=locked/);
    const locked = await waitForMail(email, notice('Signing in to your account is paused'));
    expect(locked.text).toContain('too many wrong two-factor codes');
    expect(locked.text).toContain('paused for 15 minutes');
    expect(locked.text).toContain('Whoever tried knew your password.');
    expectNoticeDetails(locked);
  });
  test('7. forgot password to an address never confirmed: the link claims the account and removes its other ways in', async ({ page }) => {
    // Made through the provider: the address is the provider's word, not proved here.
    const login = uniqueLogin('claim');
    const email = emailOf(login);
    await viaOidc(page, login, { path: '/signup' });
    await expectSignedInAs(page, email);
    await expect(page.getByText('Not confirmed', { exact: true })).toBeVisible();
    await signOut(page);

    await page.goto('/forgot-password');
    await hydrated(page);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page.getByRole('status')).toContainText('If an account has this email address, we sent it a link');
    const mail = await waitForMail(email, RESET);
    expect(mail.text).toContain('removes every other way in (connected providers, passkeys and two-factor authentication)');
    await page.goto(linkIn(mail, '/reset-password'));
    await hydrated(page);
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page).toHaveURL(/\/signin\?reset=1$/);

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectSignedInAs(page, email);
    await expect(page.getByText('Not confirmed', { exact: true })).toHaveCount(0);
    await page.goto('/settings/sign-in-methods');
    await expect(methodRow(page, OIDC).getByText('Not connected.')).toBeVisible();
    const told = await waitForMail(email, notice('You claimed your account'));
    expect(told.text).toContain(`These ways in, which someone else may have added, were removed: the connected ${OIDC} account.`);

    // The provider's account no longer opens this one.
    await hydrated(page);
    await signOut(page);
    await viaOidc(page, null);
    await expect(page).toHaveURL(/\/signin\?error=email_exists&provider=idp$/);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  async function signUpNoJs(page: Page, email: string): Promise<void> {
    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(/\/settings$/);
  }

  test('the verification link, then forgot and reset password: the code is still asked', async ({ page }) => {
    const email = uniqueEmail('nojs-reset');
    await signUpNoJs(page, email);
    await expect(banner(page)).toBeVisible();
    const link = linkIn(await waitForMail(email, VERIFY), '/verify-email');
    await follow(page, link, 'Confirm my email address', { js: false });
    await expect(page).toHaveURL(/\/settings\?verification=done$/);
    await expect(page.getByRole('status').filter({ hasText: 'Your email address is confirmed.' })).toBeVisible();
    await expect(banner(page)).toHaveCount(0);
    await expect(page.getByText('Not confirmed', { exact: true })).toHaveCount(0);

    // 2FA on, as in no-javascript.spec.ts.
    await page.goto('/settings/two-factor');
    await page.getByRole('button', { name: 'Enable' }).click();
    const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
    const key = (await dialog.getByTestId('setup-key').textContent())!.trim();
    await dialog.getByLabel('Verification code').fill(totp(key));
    await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
    await dialog.getByRole('button', { name: 'Enable' }).click();
    const codes = (await page.getByRole('list', { name: 'Recovery codes' }).locator('code').allTextContents()).map((c) => c.trim());
    expect(codes).toHaveLength(10);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/signin$/);

    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page).toHaveURL(/\/forgot-password\?sent=1$/);
    await expect(page.getByRole('status')).toContainText('we sent it a link to choose a new password');

    await page.goto(linkIn(await waitForMail(email, RESET), '/reset-password'));
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page).toHaveURL(/\/signin\?reset=1$/);
    await expect(page.getByRole('status')).toContainText('Sign in with the new password.');

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/signin\/code/);
    await page.getByLabel('Two-factor authentication code').fill(codes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page).toHaveURL(/\/settings$/);
  });

  test('change the email', async ({ page }) => {
    const old = uniqueEmail('nojs-old');
    const fresh = uniqueEmail('nojs-new');
    await signUpNoJs(page, old);
    // Notices go to a confirmed address only: confirm the old one first.
    await follow(page, linkIn(await waitForMail(old, VERIFY), '/verify-email'), 'Confirm my email address', { js: false });
    await expect(page).toHaveURL(/\/settings\?verification=done$/);
    const section = page.getByRole('region', { name: 'Change email' });
    await section.getByLabel('New email').fill(fresh);
    await section.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await section.getByRole('button', { name: 'Send the link' }).click();
    await expect(page).toHaveURL(/\/settings\?email=sent$/);
    await expect(page.getByRole('status').filter({ hasText: 'We sent a link to your new address.' })).toBeVisible();

    const link = linkIn(await waitForMail(fresh, CONFIRM_NEW), '/confirm-email');
    await waitForMail(old, notice('Your email address is about to change'));
    await follow(page, link, 'Use this email address', { js: false });
    await expect(page).toHaveURL(/\/settings\?email=changed$/);
    await expect(page.locator('dl.facts')).toContainText(fresh);
    await expect(page.locator('dl.facts')).not.toContainText(old);
    const changed = await waitForMail(old, notice('Your email address was changed'));
    expect(changed.text).toContain(`is now ${fresh}.`);
  });
});
