import { test, expect } from '@playwright/test';
import { base32Decode, hotp, totp, totpFromKey, uniqueEmail, msUntilNextStep } from './helpers';

// RFC 6238 Appendix B, SHA-1 seed "12345678901234567890".
const RFC_SEED = Buffer.from('12345678901234567890', 'ascii');
// Same seed in base32 (as an authenticator app would show it), with spaces.
const RFC_SEED_B32 = 'GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ';

test.describe('TOTP helper (no browser page needed)', () => {
  test('base32 decode of the RFC seed', () => {
    expect(base32Decode(RFC_SEED_B32).equals(RFC_SEED)).toBe(true);
    expect(base32Decode('gezdgnbvgy3tqojq').toString('ascii')).toBe('1234567890');
  });

  test('RFC 6238 vector T=59 s', () => {
    expect(hotp(RFC_SEED, Math.floor(59 / 30), 8)).toBe('94287082');
    expect(totpFromKey(RFC_SEED, 59_000, 8)).toBe('94287082');
    expect(totp(RFC_SEED_B32, 59_000)).toBe('287082');
  });

  test('more RFC 6238 SHA-1 vectors', () => {
    expect(totpFromKey(RFC_SEED, 1111111109_000, 8)).toBe('07081804');
    expect(totpFromKey(RFC_SEED, 1234567890_000, 8)).toBe('89005924');
    expect(totpFromKey(RFC_SEED, 20000000000_000, 8)).toBe('65353130');
  });

  test('codes are 6 digits and stable within a step', () => {
    const t0 = 30_000 * 56_666_667 + 10_000; // 10 s into a 30 s step
    expect(totp(RFC_SEED_B32, t0)).toMatch(/^\d{6}$/);
    expect(totp(RFC_SEED_B32, t0)).toBe(totp(RFC_SEED_B32, t0 + 19_000));
    expect(msUntilNextStep(t0)).toBe(20_000);
  });

  test('uniqueEmail is unique', () => {
    const a = uniqueEmail();
    const b = uniqueEmail();
    expect(a).toMatch(/^user-\d+-[0-9a-f]{8}@example\.com$/);
    expect(a).not.toBe(b);
  });
});
