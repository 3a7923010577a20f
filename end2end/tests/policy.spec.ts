/**
 * Two-factor authentication required by policy: a server of its own, started with
 * `--require-two-factor`, where a new account reaches nothing but the enrollment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, hydrated, shot, test } from './flows';
import { STRONG_PASSWORD, totp, uniqueEmail } from './helpers';
import { linkIn, waitForMail } from './mail';

let server: ChildProcess | undefined;
let url = '';
let dataDir = '';

test.beforeAll(async () => {
  const bin = process.env.GATEHOUSE_BIN;
  const siteRoot = process.env.GATEHOUSE_SITE_ROOT;
  if (!bin || !siteRoot) throw new Error('GATEHOUSE_BIN and GATEHOUSE_SITE_ROOT come from scripts/e2e.sh');
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-'));
  server = spawn(bin, [], {
    // GATEHOUSE_SMTP_URL comes from scripts/e2e.sh: the same maildev as the main server.
    env: {
      ...process.env,
      GATEHOUSE_ADDR: '127.0.0.1:0',
      GATEHOUSE_REQUIRE_TWO_FACTOR: 'true',
      GATEHOUSE_SIGN_UPS_PER_HOUR: '1000',
      DATABASE_URL: `sqlite://${join(dataDir, 'gatehouse.db')}`,
      GATEHOUSE_SECRET_KEY_FILE: join(dataDir, 'secret.key'),
      LEPTOS_SITE_ROOT: siteRoot,
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server!.stdout! });
    lines.on('line', (line) => {
      const found = line.match(/^Gatehouse listening on (\S+)/);
      if (found) resolve(found[1]);
    });
    server!.on('exit', (code) => reject(new Error(`the policy server exited with ${code}`)));
    server!.on('error', reject);
  });
});

test.afterAll(async () => {
  if (server?.pid && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    process.kill(server.pid, 'SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test('--require-two-factor: a new account must enroll before anything else, and cannot turn it off', async ({ page }) => {
  const email = uniqueEmail('policy');
  await page.goto(`${url}/signup`);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor$/);
  await expect(page.getByTestId('required-notice')).toBeVisible();
  await shot(page, 'policy-enroll');

  // Every other page leads back here.
  for (const path of ['/settings', '/settings/sessions', '/settings/activity', '/']) {
    await page.goto(`${url}${path}`);
    await expect(page).toHaveURL(/\/settings\/two-factor$/);
  }

  // A second factor is a way in, so the address comes first: its link opens here too.
  await hydrated(page);
  await page.getByRole('button', { name: 'Enable' }).click();
  await expect(page.locator('#start-error')).toContainText('Confirm your email address first');
  await page.goto(`${url}${linkIn(await waitForMail(email, 'Confirm your email address'), '/verify-email', url)}`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await expect(page).toHaveURL(/\/settings\/two-factor$/);

  await hydrated(page);
  await page.getByRole('button', { name: 'Enable' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable two-factor authentication' });
  const key = (await dialog.getByTestId('setup-key').textContent())!.trim();
  await dialog.getByLabel('Verification code').fill(totp(key));
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Enable' }).click();
  await expect(dialog.getByRole('list', { name: 'Recovery codes' })).toBeVisible();
  await dialog.getByRole('link', { name: 'Done' }).click();

  // Enrolled: the rest opens, and Disable gives way to switching phones.
  await expect(page.getByRole('link', { name: 'Disable' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Switch to a new phone' })).toBeVisible();
  await expect(page.getByTestId('required-notice')).toBeVisible();
  await shot(page, 'policy-enrolled');
  await page.goto(`${url}/settings/sessions`);
  await expect(page).toHaveURL(/\/settings\/sessions$/);
  await page.goto(`${url}/settings/activity`);
  await expect(page.getByText('Two-factor authentication turned on').first()).toBeVisible();
});
