import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for credentials Edgeport stores (resource-pool tokens, client keys): AES-256-GCM with
 * a random 96-bit IV per record and the record's identity as additional authenticated data, so a ciphertext
 * copied onto another record does not decrypt. Each record names the key id it was sealed with, so keys
 * can be rotated: seal with the current key, open with any key still configured.
 */
export interface SealedSecret {
  v: 1;
  alg: 'aes-256-gcm';
  /** Id of the key that sealed it (see {@link credentialKeyId}). */
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

/** Thrown by `open` when a record cannot be decrypted: unknown key id, wrong AAD, or tampered bytes. */
export class CredentialsUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsUnreadableError';
  }
}

export interface CredentialCipher {
  /** Id of the key new records are sealed with. */
  readonly keyId: string;
  seal(plaintext: string, aad: string): SealedSecret;
  /** @throws CredentialsUnreadableError */
  open(sealed: SealedSecret, aad: string): string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Decodes a key given as base64 (or base64url) of exactly 32 bytes; throws otherwise. */
export function decodeCredentialsKey(text: string): Buffer {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) throw new Error('credentials key must be base64 of 32 random bytes');
  const key = Buffer.from(t, 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`credentials key must be base64 of ${KEY_BYTES} bytes (got ${key.length})`);
  return key;
}

/** Whether `text` is a usable credentials key (for config validation). */
export function isCredentialsKey(text: string): boolean {
  try {
    decodeCredentialsKey(text);
    return true;
  } catch {
    return false;
  }
}

/** A key's public id: the first 16 hex digits of its SHA-256 (names the key, reveals nothing usable). */
export const credentialKeyId = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

/**
 * Builds the cipher from the current key and any previous keys (base64, 32 bytes each) that records may
 * still be sealed with.
 */
export function credentialCipher(currentKey: string, previousKeys: readonly string[] = []): CredentialCipher {
  const current = decodeCredentialsKey(currentKey);
  const keyId = credentialKeyId(current);
  const keys = new Map<string, Buffer>([[keyId, current]]);
  for (const k of previousKeys) {
    const key = decodeCredentialsKey(k);
    keys.set(credentialKeyId(key), key);
  }
  return {
    keyId,
    seal(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { v: 1, alg: 'aes-256-gcm', kid: keyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    },
    open(sealed, aad) {
      if (sealed?.v !== 1 || sealed.alg !== 'aes-256-gcm') throw new CredentialsUnreadableError('unsupported credentials record format');
      const key = keys.get(sealed.kid);
      if (!key) throw new CredentialsUnreadableError(`credentials were sealed with key ${sealed.kid}, which is not configured`);
      try {
        const iv = Buffer.from(sealed.iv, 'base64');
        const tag = Buffer.from(sealed.tag, 'base64');
        // A full-length tag only: GCM would otherwise accept a truncated (weaker) one.
        if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('bad iv or tag length');
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        throw new CredentialsUnreadableError('credentials record failed authentication (tampered, or sealed for another record)');
      }
    },
  };
}
