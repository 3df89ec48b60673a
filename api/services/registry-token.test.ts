import { execFileSync } from 'node:child_process';
import { createVerify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryOwner } from '../../common/images.ts';
import { parseScope, registryTokenSigner } from './registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeport-regtoken-'));
execFileSync(
  'openssl',
  ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')],
  { stdio: 'ignore' },
);
const keyPem = readFileSync(join(dir, 'k.pem'), 'utf8');
const certPem = readFileSync(join(dir, 'c.pem'), 'utf8');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('repository naming', () => {
  it.each([
    ['public/nginx', { visibility: 'public' }],
    ['public/team/nginx', { visibility: 'public' }],
    ['vdc-demo/app', { visibility: 'private', vdcId: 'demo' }],
    ['vdc-my-vdc-1/a/b', { visibility: 'private', vdcId: 'my-vdc-1' }],
    ['staging-demo/app', { visibility: 'staging', vdcId: 'demo' }],
    ['public', { visibility: 'other' }],
    ['public/', { visibility: 'other' }],
    ['vdc-/app', { visibility: 'other' }],
    ['vdc-Demo/app', { visibility: 'other' }],
    ['library/nginx', { visibility: 'other' }],
  ])('%s', (name, owner) => expect(repositoryOwner(name)).toEqual(owner));
});

describe('scope parsing', () => {
  it.each([
    ['repository:vdc-a/app:pull,push', { type: 'repository', name: 'vdc-a/app', actions: ['pull', 'push'] }],
    ['repository:public/x:pull', { type: 'repository', name: 'public/x', actions: ['pull'] }],
    ['registry:catalog:*', { type: 'registry', name: 'catalog', actions: ['*'] }],
    ['nonsense', null],
    ['repository:x', null],
    ['repository::pull', null],
    ['repository:x:', null],
  ])('%s', (scope, parsed) => expect(parseScope(scope)).toEqual(parsed));
});

describe('token signer', () => {
  it('signs an RS256 JWT with the certificate in x5c, verifiable with its public key', () => {
    const signer = registryTokenSigner({ keyPem, certPem, issuer: 'edgeport', service: 'edgeport-registry', now: () => 1_800_000_000_000 });
    const { token, expiresIn, issuedAt } = signer.sign('u-1', [{ type: 'repository', name: 'public/x', actions: ['pull'] }]);
    const [h, c, s] = token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; x5c: string[] };
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    expect(header.alg).toBe('RS256');
    const cert = new X509Certificate(Buffer.from(header.x5c[0]!, 'base64'));
    expect(cert.fingerprint256).toBe(new X509Certificate(certPem).fingerprint256);
    expect(createVerify('RSA-SHA256').update(`${h}.${c}`).verify(cert.publicKey, Buffer.from(s, 'base64url'))).toBe(true);
    expect(claims).toMatchObject({
      iss: 'edgeport',
      aud: 'edgeport-registry',
      sub: 'u-1',
      iat: 1_800_000_000,
      exp: 1_800_000_000 + expiresIn,
      access: [{ type: 'repository', name: 'public/x', actions: ['pull'] }],
    });
    expect(issuedAt).toBe(new Date(1_800_000_000_000).toISOString());
  });
});
