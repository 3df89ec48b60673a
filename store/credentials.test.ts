import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialCipher, credentialKeyId, CredentialsUnreadableError, decodeCredentialsKey, isCredentialsKey, type SealedSecret } from './credentials.ts';

const newKey = (): string => randomBytes(32).toString('base64');
const flip = (b64: string, at = 0): string => {
  const buf = Buffer.from(b64, 'base64');
  buf[at] = (buf[at] ?? 0) ^ 0x01;
  return buf.toString('base64');
};

describe('credential cipher (AES-256-GCM at rest)', () => {
  const key = newKey();
  const cipher = credentialCipher(key);
  const secret = JSON.stringify({ type: 'token', token: 'eyJhbGciOi.secret-token-value' });

  it('round-trips, with a random IV per record and no plaintext in the record', () => {
    const a = cipher.seal(secret, 'edgeport/pool/a');
    const b = cipher.seal(secret, 'edgeport/pool/a');
    expect(a.iv).not.toBe(b.iv);
    expect(a.data).not.toBe(b.data);
    expect(JSON.stringify(a)).not.toContain('secret-token-value');
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(a.tag, 'base64')).toHaveLength(16);
    expect(a).toMatchObject({ v: 1, alg: 'aes-256-gcm', kid: credentialKeyId(decodeCredentialsKey(key)) });
    expect(cipher.open(a, 'edgeport/pool/a')).toBe(secret);
  });

  it.each([
    ['ciphertext', (s: SealedSecret): SealedSecret => ({ ...s, data: flip(s.data, 5) })],
    ['auth tag', (s: SealedSecret): SealedSecret => ({ ...s, tag: flip(s.tag) })],
    ['IV', (s: SealedSecret): SealedSecret => ({ ...s, iv: flip(s.iv) })],
    ['truncated tag', (s: SealedSecret): SealedSecret => ({ ...s, tag: Buffer.from(s.tag, 'base64').subarray(0, 4).toString('base64') })],
    ['unknown key id', (s: SealedSecret): SealedSecret => ({ ...s, kid: '0000000000000000' })],
    ['format version', (s: SealedSecret): SealedSecret => ({ ...s, v: 2 as 1 })],
  ])('refuses a record with a tampered %s', (_what, tamper) => {
    const sealed = cipher.seal(secret, 'edgeport/pool/a');
    expect(() => cipher.open(tamper(sealed), 'edgeport/pool/a')).toThrow(CredentialsUnreadableError);
  });

  it('binds a record to its pool: a ciphertext copied onto another pool does not open', () => {
    const sealed = cipher.seal(secret, 'edgeport/pool/a');
    expect(() => cipher.open(sealed, 'edgeport/pool/b')).toThrow(CredentialsUnreadableError);
  });

  it('rotates keys: records of a previous key open, new records use the current one', () => {
    const oldKey = newKey();
    const old = credentialCipher(oldKey).seal(secret, 'p');
    const rotated = credentialCipher(newKey(), [oldKey]);
    expect(rotated.open(old, 'p')).toBe(secret);
    expect(rotated.seal(secret, 'p').kid).toBe(rotated.keyId);
    expect(rotated.keyId).not.toBe(old.kid);
    expect(() => credentialCipher(newKey()).open(old, 'p')).toThrow(/not configured/);
  });

  it('accepts only base64 (or base64url) of exactly 32 bytes as a key', () => {
    expect(isCredentialsKey(randomBytes(32).toString('base64url'))).toBe(true);
    expect(isCredentialsKey(randomBytes(16).toString('base64'))).toBe(false);
    expect(isCredentialsKey('correct horse battery staple correct horse')).toBe(false);
    expect(() => credentialCipher(randomBytes(31).toString('base64'))).toThrow(/32 bytes/);
  });
});
