/**
 * Passkeys and security keys with Chromium's virtual authenticator (the DevTools
 * Protocol's WebAuthn domain: CTAP2 over the internal transport, with resident keys and
 * user verification), and "remember this device".
 */
import { generateKeyPairSync } from 'node:crypto';
import type { CDPSession, Page } from '@playwright/test';
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

interface Authenticator {
  cdp: CDPSession;
  id: string;
}

/** A platform authenticator like a laptop's: it keeps passkeys and verifies the person. */
async function addAuthenticator(page: Page): Promise<Authenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

/** Whether the authenticator answers by itself, as a person touching it would. */
async function presence(a: Authenticator, enabled: boolean): Promise<void> {
  await a.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: a.id, enabled });
}

/** Settings → Two-Factor Auth → Add a passkey. Returns the recovery codes, if it shows them. */
async function addPasskey(page: Page, name: string, code?: string): Promise<string[]> {
  await page.goto('/settings/two-factor');
  await hydrated(page);
  await page.getByRole('link', { name: 'Add a passkey' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a passkey' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  if (code) {
    await dialog.getByLabel('Code from your app or a recovery code').fill(code);
  }
  await dialog.getByRole('button', { name: 'Add passkey' }).click();
  await expect(dialog.getByText(/^Your passkey is added/)).toBeVisible();
  // The first passkey turns 2FA on and shows the codes; a later one says it is added.
  const list = dialog.getByRole('list', { name: 'Recovery codes' });
  if (!(await list.count())) return [];
  await expect(list.locator('code')).toHaveCount(10);
  return (await list.locator('code').allTextContents()).map((c) => c.trim());
}

test('add a passkey and get recovery codes, then sign in with the password and the passkey', async ({ page }) => {
  const email = await signUp(page);
  const authenticator = await addAuthenticator(page);
  const codes = await addPasskey(page, 'Work laptop');
  expect(codes).toHaveLength(10);
  await shot(page, 'passkey-added');
  await page.getByRole('link', { name: 'Done' }).click();
  const item = page.getByTestId('passkey');
  await expect(item).toContainText('Work laptop');
  await expect(item).toContainText('never used');
  await expect(page.locator('.badge.on')).toBeVisible();
  await shot(page, 'passkeys');
  await signOut(page);

  // The email field's passkey autofill would answer at once here: hold the authenticator
  // back until the prompt, where the person chooses their passkey.
  await presence(authenticator, false);
  await signInToCodePrompt(page, email);
  const usePasskey = page.getByRole('button', { name: 'Use your passkey or security key' });
  await expect(usePasskey).toBeVisible();
  await shot(page, 'code-prompt-passkey');
  await presence(authenticator, true);
  await usePasskey.click();
  await expect(page).toHaveURL(/\/settings$/);
  await page.goto('/settings/activity');
  await expect(page.getByText('Passkey used').first()).toBeVisible();
});

test('sign in with a passkey and no password: the button, and the email field\'s autofill', async ({ page }) => {
  await signUp(page);
  await addAuthenticator(page);
  await addPasskey(page, 'Phone');
  await page.goto('/settings');
  await signOut(page);

  await hydrated(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await signOut(page);

  // Focusing the email field offers the passkey; this authenticator answers by itself.
  await page.goto('/signin');
  await hydrated(page);
  await expect(page.getByLabel('Email')).toHaveAttribute('autocomplete', 'username webauthn');
  await page.getByLabel('Email').focus();
  await expect(page).toHaveURL(/\/settings$/);
});

test('a second authenticator that was never registered is refused; a recovery code still works', async ({ page }) => {
  const email = await signUp(page);
  const registered = await addAuthenticator(page);
  const codes = await addPasskey(page, 'Laptop');
  await page.goto('/settings');
  await signOut(page);

  await registered.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: registered.id });
  await addAuthenticator(page);
  await signInToCodePrompt(page, email);
  await page.getByRole('button', { name: 'Use your passkey or security key' }).click();
  await expect(page.locator('#passkey-error')).not.toBeEmpty();
  await expect(page).toHaveURL(/\/signin\/code/);
  await enterCode(page, codes[0]);
  await expect(page).toHaveURL(/\/settings$/);
});

test('remove the only passkey and two-factor authentication turns off', async ({ page }) => {
  await signUp(page);
  await addAuthenticator(page);
  const codes = await addPasskey(page, 'Security key');
  await page.getByRole('link', { name: 'Done' }).click();
  await page.getByRole('link', { name: 'Rename' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename passkey' });
  await rename.getByLabel('Name').fill('Blue key');
  await rename.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('passkey')).toContainText('Blue key');

  await page.getByRole('link', { name: 'Remove' }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove passkey' });
  await expect(dialog.getByTestId('last-factor')).toBeVisible();
  await shot(page, 'passkey-remove');
  await dialog.getByLabel('A recovery code').fill(codes[0]);
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByTestId('no-passkeys')).toBeVisible();
  await expect(page.locator('.badge.off')).toBeVisible();
});

test('remember this device: no code next time, until a factor changes or it is forgotten', async ({ page }) => {
  const email = await signUp(page);
  const { key, codes } = await enableTwoFactor(page);
  await signOut(page);

  await signInToCodePrompt(page, email);
  await page.getByLabel('Remember this device for 30 days').check();
  await shot(page, 'code-prompt-remember');
  await enterCode(page, nextCode(key));
  await expect(page).toHaveURL(/\/settings$/);
  await signOut(page);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/settings$/);

  // New recovery codes are a factor change: the device is forgotten.
  await page.goto('/settings/two-factor/recovery-codes');
  await hydrated(page);
  const regenerate = page.getByRole('dialog', { name: 'New recovery codes' });
  await regenerate.getByLabel('Code from your app or a recovery code').fill(codes[0]);
  await regenerate.getByLabel('Password').fill(STRONG_PASSWORD);
  await regenerate.getByRole('button', { name: 'Generate new codes' }).click();
  const freshList = regenerate.getByRole('list', { name: 'Recovery codes' });
  await expect(freshList.locator('code')).toHaveCount(10);
  const fresh = (await freshList.locator('code').allTextContents()).map((c) => c.trim());
  await regenerate.getByRole('link', { name: 'Done' }).click();
  await signOut(page);
  await signInToCodePrompt(page, email);

  // Remembered again, then forgotten from Sessions.
  await page.getByLabel('Remember this device for 30 days').check();
  await enterCode(page, fresh[0]);
  await expect(page).toHaveURL(/\/settings$/);
  await page.goto('/settings/sessions');
  await hydrated(page);
  const remembered = page.getByRole('list', { name: 'Remembered devices' }).getByRole('listitem');
  await expect(remembered).toHaveCount(1);
  await shot(page, 'sessions-remembered');
  await remembered.getByRole('button', { name: 'Forget' }).click();
  await expect(page.getByTestId('no-remembered-devices')).toBeVisible();
  await page.goto('/settings');
  await signOut(page);
  await signInToCodePrompt(page, email);
});

test('without JavaScript no passkey button is offered, and a recovery code still signs in', async ({ page, browser }) => {
  const email = await signUp(page);
  await addAuthenticator(page);
  const codes = await addPasskey(page, 'Laptop');

  const plain = await browser.newContext({ javaScriptEnabled: false });
  const noJs = await plain.newPage();
  await noJs.goto('/signin');
  await expect(noJs.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  await expect(noJs.getByRole('button', { name: 'Sign in with a passkey' })).toHaveCount(0);
  await noJs.getByLabel('Email').fill(email);
  await noJs.getByLabel('Password').fill(STRONG_PASSWORD);
  await noJs.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(noJs).toHaveURL(/\/signin\/code/);
  await expect(noJs.getByRole('button', { name: 'Use your passkey or security key' })).toHaveCount(0);
  await noJs.getByLabel('Two-factor authentication code').fill(codes[0]);
  await noJs.getByRole('button', { name: 'Verify' }).click();
  await expect(noJs).toHaveURL(/\/settings$/);
  await plain.close();
});

test('a key that is not the registered one is refused by the server, and counted', async ({ page }) => {
  const email = await signUp(page);
  const registered = await addAuthenticator(page);
  const codes = await addPasskey(page, 'Laptop');
  const { credentials } = await registered.cdp.send('WebAuthn.getCredentials', { authenticatorId: registered.id });
  expect(credentials).toHaveLength(1);
  await page.goto('/settings');
  await signOut(page);

  // The same credential id and user, on another authenticator, with another private key:
  // the browser answers, and the server refuses the signature.
  await registered.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: registered.id });
  const impostor = await addAuthenticator(page);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await impostor.cdp.send('WebAuthn.addCredential', {
    authenticatorId: impostor.id,
    credential: {
      credentialId: credentials[0].credentialId,
      isResidentCredential: true,
      rpId: credentials[0].rpId,
      privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      userHandle: credentials[0].userHandle,
      signCount: 10,
    },
  });
  await presence(impostor, false);
  await signInToCodePrompt(page, email);
  await presence(impostor, true);
  await page.getByRole('button', { name: 'Use your passkey or security key' }).click();
  await expect(page.locator('#passkey-error')).toHaveText(
    'Your passkey was not accepted. Try again, or use another way to sign in.',
  );
  await enterCode(page, codes[0]);
  await expect(page).toHaveURL(/\/settings$/);
  await page.goto('/settings/activity');
  await expect(page.getByText('Wrong two-factor code').first()).toBeVisible();
});
