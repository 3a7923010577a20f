/**
 * Reading the mail Gatehouse sent, from the maildev server scripts/e2e.sh starts (a real
 * SMTP server; its REST API is at MAILDEV_URL).
 */
import { expect } from '@playwright/test';

export interface Mail {
  id: string;
  subject: string;
  to: { address: string; name?: string }[];
  from: { address: string; name?: string }[];
  text: string;
  html: string;
}

function maildevUrl(): string {
  const url = process.env.MAILDEV_URL;
  if (!url) throw new Error('MAILDEV_URL is not set: run the specs through scripts/e2e.sh');
  return url;
}

/** Every message maildev holds. */
export async function allMail(): Promise<Mail[]> {
  const res = await fetch(`${maildevUrl()}/api/email`);
  if (!res.ok) throw new Error(`maildev answered ${res.status}`);
  return (await res.json()) as Mail[];
}

/** The messages to `address` (case-insensitive), oldest first, optionally with this subject. */
export async function mailTo(address: string, subject?: string | RegExp): Promise<Mail[]> {
  const wanted = address.toLowerCase();
  return (await allMail()).filter(
    (m) =>
      m.to.some((t) => t.address.toLowerCase() === wanted) &&
      (subject === undefined || (typeof subject === 'string' ? m.subject === subject : subject.test(m.subject))),
  );
}

/**
 * Waits (polling maildev) until `count` messages to `address` with `subject` have arrived,
 * and returns the newest. Fails if more than `count` arrive: each message is sent once.
 */
export async function waitForMail(
  address: string,
  subject: string | RegExp,
  { count = 1, timeout = 15_000 } = {},
): Promise<Mail> {
  let found: Mail[] = [];
  await expect
    .poll(
      async () => {
        found = await mailTo(address, subject);
        return found.length;
      },
      { message: `${count} message(s) "${subject}" to ${address}`, timeout, intervals: [200, 300, 500] },
    )
    .toBeGreaterThanOrEqual(count);
  expect(found, `exactly ${count} message(s) "${subject}" to ${address}`).toHaveLength(count);
  return found[found.length - 1];
}

/** Asserts that no message to `address` with `subject` has arrived (after letting the worker run). */
export async function expectNoMail(address: string, subject: string | RegExp, waitMs = 2_500): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  expect(await mailTo(address, subject), `no "${subject}" to ${address}`).toEqual([]);
}

/**
 * The one link to `path` in a message, checked to be the same in its text and its HTML.
 * Returns it relative (path and query), so the test opens it against its own base URL
 * (which is also the server's --public-url), or against `origin` for another server.
 */
export function linkIn(mail: Mail, path: string, origin = process.env.GATEHOUSE_URL!): string {
  const pattern = new RegExp(`https?://[^\\s"<>]+${path.replace(/[/?]/g, '\\$&')}\\?token=[\\w-]+`, 'g');
  const inText = mail.text.match(pattern) ?? [];
  expect(inText, `one ${path} link in the text of "${mail.subject}"`).toHaveLength(1);
  const inHtml = (mail.html.match(pattern) ?? []).map((l) => l.replace(/&amp;/g, '&'));
  expect(new Set(inHtml), `the same link in the HTML of "${mail.subject}"`).toEqual(new Set(inText));
  const url = new URL(inText[0]!);
  expect(url.origin, 'links are built from the public URL').toBe(new URL(origin).origin);
  return `${url.pathname}${url.search}`;
}
