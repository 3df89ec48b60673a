import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { credentialCipher } from './credentials.ts';
import { openStore, type Store } from './index.ts';
import { PULL_CREDENTIALS_COLLECTION, pullCredentialAad } from './pull-credentials.ts';

/** The per-VDC pull credential at rest, on the stack's MongoDB: made once, rotated once per request, only sealed and hashed. */
let store: Store;
const cipher = credentialCipher(randomBytes(32).toString('base64'));

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
});
afterAll(async () => {
  await store?.close();
});

describe('pull credential store', () => {
  it('is made once under concurrent callers, rotates once per rotation id, and verifies only the current secret', async () => {
    const creds = store.pullCredentials;
    const vdc = uniqueName('pcs');
    const made = await Promise.all(Array.from({ length: 8 }, () => creds.ensure(vdc, cipher)));
    expect(made.filter((m) => m.created)).toHaveLength(1);
    const first = (await creds.open(vdc, cipher))!;
    expect(first.rotationId).toBe('initial');
    expect(first.secret).toMatch(/^eppull_[A-Za-z0-9_-]{43}$/);
    const raw = await store.testing.collection(PULL_CREDENTIALS_COLLECTION).findOne({ _id: vdc as never });
    expect(JSON.stringify(raw)).not.toContain(first.secret);
    // Sealed for this VDC: the ciphertext does not open as another VDC's.
    expect(() => cipher.open(raw!.sealed, pullCredentialAad('another'))).toThrow();
    expect(await creds.verify(vdc, first.secret)).toBe(true);
    expect(await creds.verify('another', first.secret)).toBe(false);
    expect(await creds.verify(vdc, 'ep_not-a-pull-secret')).toBe(false);

    expect(await creds.rotate(vdc, 'r1', cipher)).toEqual({ rotated: true });
    expect(await creds.rotate(vdc, 'r1', cipher)).toEqual({ rotated: false });
    const second = (await creds.open(vdc, cipher))!;
    expect(second).toMatchObject({ rotationId: 'r1' });
    expect(second.secret).not.toBe(first.secret);
    expect(await creds.verify(vdc, first.secret)).toBe(false);
    expect(await creds.verify(vdc, second.secret)).toBe(true);
    expect(await creds.ensure(vdc, cipher)).toEqual({ created: false });
    expect((await creds.open(vdc, cipher))!.secret).toBe(second.secret);

    expect(await creds.remove(vdc)).toBe(true);
    expect(await creds.remove(vdc)).toBe(false);
    expect(await creds.verify(vdc, second.secret)).toBe(false);
  });
});
