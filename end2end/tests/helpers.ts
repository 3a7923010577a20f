/**
 * Reusable helpers for Gatehouse end-to-end specs.
 * Only Node built-ins are used (no extra npm dependencies).
 */
import { createHmac, randomBytes } from 'node:crypto';

/** A password that zxcvbn scores 4 ("very strong"). */
export const STRONG_PASSWORD = 'correct-Horse-battery-staple-92';

/** A unique, valid e-mail address per call: user-<timestamp>-<random>@example.com */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${Date.now()}-${randomBytes(4).toString('hex')}@example.com`;
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 decode; ignores whitespace, '-' separators, padding and case. */
export function base32Decode(input: string): Buffer {
  const clean = input.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const idx = BASE32_ALPHABET.indexOf(ch);
    if (idx === -1) throw new Error(`invalid base32 character ${JSON.stringify(ch)}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP (HMAC-SHA1) for a raw key and counter. */
export function hotp(key: Buffer, counter: number, digits = 6): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin =
    ((mac[offset] & 0x7f) << 24) |
    (mac[offset + 1] << 16) |
    (mac[offset + 2] << 8) |
    mac[offset + 3];
  return (bin % 10 ** digits).toString().padStart(digits, '0');
}

/** RFC 6238 TOTP (SHA-1, 30 s step) for a raw key. */
export function totpFromKey(key: Buffer, timeMs = Date.now(), digits = 6, stepSeconds = 30): string {
  return hotp(key, Math.floor(timeMs / 1000 / stepSeconds), digits);
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for a base32 secret as shown to users. */
export function totp(base32Secret: string, timeMs = Date.now()): string {
  return totpFromKey(base32Decode(base32Secret), timeMs);
}

/** Milliseconds until the next 30 s TOTP step boundary. */
export function msUntilNextStep(nowMs = Date.now(), stepSeconds = 30): number {
  const stepMs = stepSeconds * 1000;
  return stepMs - (nowMs % stepMs);
}

/**
 * Waits until just after (+200 ms) the next 30 s boundary, so a fresh TOTP code
 * is available (e.g. the server rejects re-use of a code within the same step).
 */
export async function waitForNextStep(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, msUntilNextStep() + 200));
}
