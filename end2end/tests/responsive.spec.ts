/**
 * The main pages at a phone's width and a laptop's: nothing scrolls sideways, and the
 * screenshots the README links to are taken here.
 */
import { Page } from '@playwright/test';
import { enableTwoFactor, expect, hydrated, nextCode, signOut, signUp, test } from './flows';
import { STRONG_PASSWORD, totp } from './helpers';

const WIDTHS = [375, 1280];

async function capture(page: Page, name: string, width: number): Promise<void> {
  await page.setViewportSize({ width, height: width < 600 ? 812 : 800 });
  await hydrated(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} scrolls sideways at ${width} px`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: `screenshots/responsive/${name}-${width}.png`, fullPage: true });
}

for (const width of WIDTHS) {
  test(`main pages fit at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: 800 });
    await page.goto('/signin');
    await capture(page, 'sign-in', width);
    await page.goto('/signup');
    await capture(page, 'sign-up', width);

    const email = await signUp(page);
    const { key } = await enableTwoFactor(page);
    await capture(page, 'two-factor', width);
    await page.goto('/settings/two-factor/disable');
    await capture(page, 'disable-dialog', width);
    await page.goto('/settings');
    await capture(page, 'profile', width);
    await page.goto('/settings/sessions');
    await capture(page, 'sessions', width);
    await page.goto('/settings/activity');
    await capture(page, 'activity', width);
    await signOut(page);

    await page.goto('/signin');
    await hydrated(page);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/signin\/code/);
    await capture(page, 'code-prompt', width);
    await page.getByLabel('Two-factor authentication code').fill(nextCode(key));
    await expect(page).toHaveURL(/\/settings$/);
  });

  test(`the enable dialog and the recovery codes fit at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: 800 });
    await signUp(page);
    await page.goto('/settings/two-factor');
    await hydrated(page);
    await page.getByRole('button', { name: 'Enable' }).click();
    const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
    await expect(dialog).toBeVisible();
    await capture(page, 'enable-dialog', width);
    const key = (await dialog.getByTestId('setup-key').textContent())!.trim();
    await dialog.getByLabel('Verification code').fill(totp(key));
    await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
    await dialog.getByRole('button', { name: 'Enable' }).click();
    await expect(dialog.getByRole('list', { name: 'Recovery codes' })).toBeVisible();
    await capture(page, 'recovery-codes', width);
  });
}
