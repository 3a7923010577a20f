import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import {
  enableTwoFactor,
  expect,
  test,
  enterCode,
  hydrated,
  nextCode,
  shot,
  signIn,
  signInToCodePrompt,
  signOut,
  signUp,
} from './flows';
import { STRONG_PASSWORD, totp } from './helpers';

test('1. enable: QR code and key, then recovery codes that download as a file', async ({ page }) => {
  const email = await signUp(page);
  await page.getByRole('link', { name: 'Two-Factor Auth' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor$/);
  await expect(page.getByText('Make your account more secure with two-factor authentication.')).toBeVisible();
  for (const app of ['Google Authenticator', 'Authy', 'Microsoft Authenticator', '1Password']) {
    await expect(page.getByRole('listitem').filter({ hasText: app })).toBeVisible();
  }
  await shot(page, 'two-factor-off');

  await hydrated(page);
  await page.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('img', { name: /QR code/ }).locator('svg')).toBeVisible();
  const key = (await dialog.getByTestId('setup-key').textContent())!.trim();
  expect(key.replace(/ /g, '')).toMatch(/^[A-Z2-7]{32}$/);
  // A real decoder reads the QR code as an authenticator app would: the same key.
  const qrImage = test.info().outputPath('qr.png');
  await dialog.getByRole('img', { name: /QR code/ }).screenshot({ path: qrImage });
  const uri = new URL(execFileSync('zbarimg', ['--raw', '-q', qrImage], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  expect(`${uri.protocol}//${uri.host}`).toBe('otpauth://totp');
  expect(decodeURIComponent(uri.pathname)).toBe(`/Gatehouse:${email}`);
  expect(uri.searchParams.get('secret')).toBe(key.replace(/ /g, ''));
  expect(uri.searchParams.get('issuer')).toBe('Gatehouse');
  const codeField = dialog.getByLabel('Verification code');
  await expect(codeField).toHaveAttribute('inputmode', 'numeric');
  await expect(codeField).toHaveAttribute('autocomplete', 'one-time-code');
  await shot(page, 'enable-dialog');

  // A wrong code is explained and changes nothing.
  const wrong = totp(key) === '000000' ? '111111' : '000000';
  await codeField.fill(wrong);
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Enable' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(
    'That code is not valid. Check your authenticator app and try again.',
  );

  await codeField.fill(totp(key));
  await dialog.getByRole('button', { name: 'Enable' }).click();
  const list = dialog.getByRole('list', { name: 'Recovery codes' });
  await expect(list).toBeVisible();
  await expect(dialog.getByText('Save these codes somewhere safe, not on your phone. Each code works once.')).toBeVisible();
  const onScreen = (await list.locator('code').allTextContents()).map((c) => c.trim());
  expect(onScreen).toHaveLength(10);
  await shot(page, 'recovery-codes');

  const downloadPromise = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Download codes' }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe('gatehouse-recovery-codes.txt');
  const file = await readFile((await download.path())!, 'utf8');
  expect(file).toContain('Gatehouse recovery codes');
  expect(file).toContain(`Account: ${email}`);
  const inFile = file.split('\n').filter((line) => /^[A-Z0-9]{4}(-[A-Z0-9]{4}){5}$/.test(line));
  expect(inFile).toEqual(onScreen);

  await dialog.getByRole('link', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(/On\s+since .* · 10 of 10 recovery codes left/)).toBeVisible();
  await shot(page, 'two-factor-on');
});

test('2. sign in with the app code after the password', async ({ page }) => {
  const email = await signUp(page);
  const { key } = await enableTwoFactor(page);
  await signOut(page);

  await signIn(page, email);
  await expect(page).toHaveURL(/\/signin\/code/);
  await expect(page.getByLabel('Two-factor authentication code')).toHaveAttribute('autocomplete', 'one-time-code');
  await shot(page, 'code-prompt');
  await hydrated(page);

  const wrong = nextCode(key) === '000000' ? '111111' : '000000';
  await enterCode(page, wrong);
  await expect(page.getByRole('alert')).toHaveText(
    'That code is not valid. Check your authenticator app and try again.',
  );
  // Typed digit by digit (with a space, as some apps show it), the 6th digit sends the
  // form: no Enter, no button. The field says so to screen readers.
  const field = page.getByLabel('Two-factor authentication code');
  await expect(field).toHaveAccessibleDescription(/sent as soon as you type the 6th digit/);
  const code = nextCode(key);
  await field.fill('');
  await field.pressSequentially(`${code.slice(0, 3)} ${code.slice(3)}`);
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByText(email).first()).toBeVisible();
});

test('3. sign in with a recovery code when the phone is lost; it works once', async ({ page }) => {
  const email = await signUp(page);
  const { codes } = await enableTwoFactor(page);
  await signOut(page);

  await signIn(page, email);
  await expect(page).toHaveURL(/\/signin\/code/);
  await page.getByRole('link', { name: 'Lost your phone? Use a recovery code' }).click();
  await expect(page.getByText('Enter one of the recovery codes you saved')).toBeVisible();
  await hydrated(page);
  // Typed in lower case with spaces instead of dashes.
  await enterCode(page, codes[0].toLowerCase().replace(/-/g, ' '));
  await expect(page).toHaveURL(/\/settings$/);

  await page.goto('/settings/two-factor');
  await expect(page.getByText(/9 of 10 recovery codes left/)).toBeVisible();
  await expect(page.getByText('A recovery code has been used on your account.')).toBeVisible();
  await hydrated(page);
  await signOut(page);

  await signInToCodePrompt(page, email);
  await enterCode(page, codes[0]);
  await expect(page.getByRole('alert')).toHaveText(
    'That code is not valid. Check your authenticator app and try again.',
  );
});

test('4. disable with a code and the password; sign-in then asks for no code', async ({ page }) => {
  const email = await signUp(page);
  const { key } = await enableTwoFactor(page);
  await page.getByRole('link', { name: 'Disable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Disable two-factor authentication' });
  await expect(dialog).toBeVisible();
  await shot(page, 'disable-dialog');
  await dialog.getByLabel('Code from your app or a recovery code').fill(nextCode(key));
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Disable' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText('Make your account more secure with two-factor authentication.')).toBeVisible();

  await signOut(page);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/settings$/);
});

test('5. switch phones: disable, enable again with a new secret; old codes stop working', async ({ page }) => {
  const email = await signUp(page);
  const old = await enableTwoFactor(page);
  await page.goto('/settings/two-factor/disable');
  await hydrated(page);
  const dialog = page.getByRole('dialog', { name: 'Disable two-factor authentication' });
  await dialog.getByLabel('Code from your app or a recovery code').fill(old.codes[0]);
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Disable' }).click();
  await expect(dialog).toBeHidden();

  const fresh = await enableTwoFactor(page);
  expect(fresh.key).not.toEqual(old.key);
  await signOut(page);

  await signInToCodePrompt(page, email);
  const oldCode = nextCode(old.key);
  if (oldCode !== nextCode(fresh.key)) {
    await enterCode(page, oldCode);
    await expect(page.getByRole('alert')).toContainText('That code is not valid.');
  }
  await enterCode(page, old.codes[1]);
  await expect(page.getByRole('alert')).toContainText('That code is not valid.');
  await enterCode(page, nextCode(fresh.key));
  await expect(page).toHaveURL(/\/settings$/);
});

test('6. regenerate recovery codes; the old set stops working at once', async ({ page }) => {
  const email = await signUp(page);
  const { key, codes } = await enableTwoFactor(page);
  await page.getByRole('link', { name: 'Regenerate recovery codes' }).click();
  const dialog = page.getByRole('dialog', { name: 'New recovery codes' });
  await dialog.getByLabel('Code from your app or a recovery code').fill(nextCode(key));
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Generate new codes' }).click();
  const list = dialog.getByRole('list', { name: 'Recovery codes' });
  await expect(list).toBeVisible();
  const fresh = (await list.locator('code').allTextContents()).map((c) => c.trim());
  expect(fresh).toHaveLength(10);
  expect(fresh).not.toContain(codes[0]);
  await dialog.getByRole('link', { name: 'Done' }).click();
  await signOut(page);

  await signIn(page, email);
  await hydrated(page);
  await enterCode(page, codes[2]);
  await expect(page.getByRole('alert')).toContainText('That code is not valid.');
  await enterCode(page, fresh[0]);
  await expect(page).toHaveURL(/\/settings$/);
});
