/**
 * The WASM is split in three (app/src/pages/chunks.rs): a first visit to the sign-in page
 * fetches only the main module, and the other pages' chunks come when they are needed.
 */
import { Browser, BrowserContext, Page } from '@playwright/test';
import { expect, hydrated, signOut, signUp, test, watchConsole } from './flows';
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

/**
 * A page in a browser that has never been here (`cookies` aside), with the WASM it
 * fetches recorded; `close` checks its console as every spec's own page is checked.
 */
async function freshPage(browser: Browser, cookies: Parameters<BrowserContext['addCookies']>[0] = []) {
  const context = await browser.newContext();
  await context.addCookies(cookies);
  const page = await context.newPage();
  const noProblems = watchConsole(page);
  return {
    page,
    fetched: wasmFetches(page),
    close: async () => {
      await context.close();
      noProblems();
    },
  };
}

/** Marks the document, so `expectSameDocument` can tell a client-side navigation. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => document.documentElement.setAttribute('data-split-spec', ''));
}

async function expectSameDocument(page: Page): Promise<void> {
  await expect(page.locator('html[data-split-spec]'), 'the page was not loaded again').toHaveCount(1);
}

/** Twenty renders of `path` each link the chunk named `chunk` from their head. */
async function expectChunkLinked(page: Page, path: string, chunk: string): Promise<void> {
  // Leptos's own link was missing from a third to a half of renders; the app links it too.
  const link = new RegExp(`<link[^>]*href="/pkg/split_${chunk}_\\d+\\.wasm"[^>]*>`);
  for (let render = 0; render < 20; render++) {
    expect(await (await page.request.get(path)).text()).toMatch(link);
  }
}

test('the sign-in page fetches only the main module; the next pages fetch their chunks', async ({ browser, page }) => {
  const email = await signUp(page);
  await signOut(page);
  await expectChunkLinked(page, '/signup', 'public_view');

  const fresh = await freshPage(browser);
  await fresh.page.goto('/signin');
  await hydrated(fresh.page);
  await fresh.page.getByLabel('Email').fill(email);
  await fresh.page.getByLabel('Password').fill(STRONG_PASSWORD);
  expect(fresh.fetched()).toEqual(['gatehouse.wasm']);

  await markDocument(fresh.page);
  await fresh.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(fresh.page).toHaveURL(/\/settings$/);
  await expect(fresh.page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await expect(fresh.page.getByText(email).first()).toBeVisible();
  await expectSameDocument(fresh.page);
  // The signed-out pages' chunk was fetched while the password was checked.
  expect(fresh.fetched()).toEqual(['gatehouse.wasm', 'public_view', 'settings_view', 'shared']);

  // Between tabs nothing more is fetched, and the tab is drawn by the client.
  await fresh.page.getByRole('link', { name: 'Two-Factor Auth' }).click();
  await expect(fresh.page.getByRole('button', { name: 'Enable' })).toBeVisible();
  await expectSameDocument(fresh.page);
  expect(fresh.fetched()).toEqual(['gatehouse.wasm', 'public_view', 'settings_view', 'shared']);
  await fresh.close();
});

test('a first visit to Settings hydrates once its chunk is there', async ({ browser, page }) => {
  const email = await signUp(page);

  const fresh = await freshPage(browser, await page.context().cookies());
  await fresh.page.goto('/settings/two-factor');
  await hydrated(fresh.page);
  expect(fresh.fetched()).toEqual(['gatehouse.wasm', 'settings_view', 'shared']);
  await expectChunkLinked(fresh.page, '/settings/two-factor', 'settings_view');
  // A Rust handler answers: the enable dialog opens without a page load.
  await markDocument(fresh.page);
  await fresh.page.getByRole('button', { name: 'Enable' }).click();
  await expect(fresh.page).toHaveURL(/\/settings\/two-factor\/enable$/);
  await expect(fresh.page.getByRole('dialog')).toBeVisible();
  await expect(fresh.page.getByText(email).first()).toBeVisible();
  await expectSameDocument(fresh.page);
  await fresh.close();
});
