/**
 * The WASM is split in three (app/src/pages/chunks.rs): a first visit to the sign-in page
 * fetches only the main module, and the other pages' chunks come when they are needed.
 */
import { Page } from '@playwright/test';
import { expect, hydrated, signOut, signUp, test } from './flows';
import { STRONG_PASSWORD } from './helpers';

/** Records the WASM files a page fetches, named without their hashes. */
function wasmFetches(page: Page): () => string[] {
  const seen = new Set<string>();
  page.on('request', (request) => {
    const file = new URL(request.url()).pathname.split('/').pop() ?? '';
    if (file.endsWith('.wasm')) {
      seen.add(file.replace(/^split_(\w+?)_\d+\.wasm$/, '$1').replace(/^chunk_\d+\.wasm$/, 'shared'));
    }
  });
  return () => [...seen].sort();
}

test('the sign-in page fetches only the main module; the next pages fetch their chunks', async ({ browser, page }) => {
  const email = await signUp(page);
  await signOut(page);

  // A browser that has never been here.
  const context = await browser.newContext();
  const fresh = await context.newPage();
  const fetched = wasmFetches(fresh);
  await fresh.goto('/signin');
  await hydrated(fresh);
  await fresh.getByLabel('Email').fill(email);
  await fresh.getByLabel('Password').fill(STRONG_PASSWORD);
  expect(fetched()).toEqual(['gatehouse.wasm']);

  await fresh.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(fresh).toHaveURL(/\/settings$/);
  await expect(fresh.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await expect(fresh.getByText(email).first()).toBeVisible();
  // The signed-out pages' chunk was fetched while the password was checked.
  expect(fetched()).toEqual(['gatehouse.wasm', 'public_view', 'settings_view', 'shared']);

  // Between tabs nothing more is fetched, and the tab is drawn by the client.
  await fresh.getByRole('link', { name: 'Two-Factor Auth' }).click();
  await expect(fresh.getByRole('button', { name: 'Enable' })).toBeVisible();
  expect(fetched()).toEqual(['gatehouse.wasm', 'public_view', 'settings_view', 'shared']);
  await context.close();
});

test('a first visit to Settings hydrates once its chunk is there', async ({ browser, page }) => {
  const email = await signUp(page);
  const cookies = await page.context().cookies();

  const context = await browser.newContext();
  await context.addCookies(cookies);
  const fresh = await context.newPage();
  const fetched = wasmFetches(fresh);
  await fresh.goto('/settings/two-factor');
  await hydrated(fresh);
  expect(fetched()).toEqual(['gatehouse.wasm', 'settings_view', 'shared']);
  // Every render links the chunk from the head, so the browser fetches it beside the main
  // module (Leptos's own link was missing from about a third of them).
  for (let render = 0; render < 5; render++) {
    const html = await (await fresh.request.get('/settings/two-factor')).text();
    expect(html).toMatch(/<link[^>]*href="\/pkg\/split_settings_view_\d+\.wasm"[^>]*>/);
  }
  // A Rust handler answers: the enable dialog opens without a page load.
  await fresh.getByRole('button', { name: 'Enable' }).click();
  await expect(fresh).toHaveURL(/\/settings\/two-factor\/enable$/);
  await expect(fresh.getByRole('dialog')).toBeVisible();
  await expect(fresh.getByText(email).first()).toBeVisible();
  await context.close();
});
