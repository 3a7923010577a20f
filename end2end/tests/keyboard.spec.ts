import { expect, hydrated, signUp, test } from './flows';
import { STRONG_PASSWORD, totp } from './helpers';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

test('enable two-factor authentication with the keyboard alone', async ({ page }) => {
  await signUp(page);
  await page.goto('/settings/two-factor');
  await hydrated(page);

  const enable = page.getByRole('button', { name: 'Enable' });
  await enable.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
  await expect(dialog).toBeVisible();
  const key = (await dialog.getByTestId('setup-key').textContent())!.trim();

  // Focus is inside the dialog and stays there: Tab never reaches the page behind it.
  await expect.poll(() => dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  const code = dialog.getByLabel('Verification code');
  for (let i = 0; i < 10 && !(await code.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  }
  await expect(code).toBeFocused();
  await page.keyboard.type(totp(key));
  await page.keyboard.press('Tab');
  await expect(dialog.getByLabel('Password')).toBeFocused();
  await page.keyboard.type(STRONG_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(dialog.getByRole('list', { name: 'Recovery codes' })).toBeVisible();

  // Space presses the focused button, as for any button.
  await dialog.getByRole('button', { name: 'Copy' }).focus();
  await page.keyboard.press('Space');
  await expect(dialog.getByRole('status')).toHaveText('Copied to the clipboard.');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const onScreen = (await dialog.getByRole('list', { name: 'Recovery codes' }).locator('code').allTextContents()).map((c) => c.trim());
  for (const code of onScreen) {
    expect(copied).toContain(code);
  }

  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL(/\/settings\/two-factor$/);
  await expect(page.getByText(/10 of 10 recovery codes left/)).toBeVisible();
  // The Enable button is gone now, so focus lands on the tab's heading, not on <body>.
  await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeFocused();

  // Closing a dialog puts focus back on the control that opened it.
  const disable = page.getByRole('link', { name: 'Disable' });
  await disable.focus();
  await page.keyboard.press('Enter');
  const disableDialog = page.getByRole('dialog', { name: 'Disable two-factor authentication' });
  await expect(disableDialog).toBeVisible();
  await expect.poll(() => disableDialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  await page.keyboard.press('Escape');
  await expect(disableDialog).toBeHidden();
  await expect(disable).toBeFocused();
});
