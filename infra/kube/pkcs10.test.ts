import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { joinState, joinTokenGroup, KUBELET_CLIENT_SIGNER, NODE_JOIN_BOOTSTRAP_GROUP } from '../../common/node-join-workflow.ts';
import { judgeJoinCsr } from '../../activities/node-join.ts';
import { buildCsr, parseCsrSubject } from './pkcs10.ts';

/**
 * The PKCS#10 reader/builder against openssl (verifies the signature and prints the subject), and the
 * worker's verdict on a join CSR: approve only the one for the ticket's node, from the ticket's token.
 */

const keys = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

describe('pkcs10', () => {
  it('builds a request openssl verifies, with the subject in kubelet order; reads it back', () => {
    const { privateKey, publicKey } = keys();
    const pem = buildCsr({ commonName: 'system:node:edge-a.shop-1', organizations: ['system:nodes'] }, privateKey, publicKey);
    const file = join(mkdtempSync(join(tmpdir(), 'csr-')), 'req.pem');
    writeFileSync(file, pem);
    const out = execFileSync('openssl', ['req', '-in', file, '-noout', '-verify', '-subject'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain('subject=O = system:nodes, CN = system:node:edge-a.shop-1');
    expect(parseCsrSubject(pem)).toEqual({ commonName: 'system:node:edge-a.shop-1', organizations: ['system:nodes'] });
  });

  it('reads requests made by openssl (several O, long lengths) and refuses what is not one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'csr-'));
    const pem = execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-subj', '/O=system:nodes/O=extra/CN=system:node:x'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(parseCsrSubject(pem)).toEqual({ commonName: 'system:node:x', organizations: ['system:nodes', 'extra'] });
    expect(() => parseCsrSubject('-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----')).toThrow();
    expect(() => parseCsrSubject('hello')).toThrow(/not a PEM/);
  });
});

describe('judgeJoinCsr', () => {
  const tokenId = 'abc123';
  const nodeName = 'edge-7.shop';
  const csr = (
    over: { cn?: string; orgs?: string[]; username?: string; groups?: string[]; signer?: string; usages?: string[] } = {},
  ): V1CertificateSigningRequest => {
    const { privateKey, publicKey } = keys();
    const pem = buildCsr({ commonName: over.cn ?? `system:node:${nodeName}`, organizations: over.orgs ?? ['system:nodes'] }, privateKey, publicKey);
    return {
      metadata: { name: 'node-csr-x' },
      spec: {
        request: Buffer.from(pem).toString('base64'),
        signerName: over.signer ?? KUBELET_CLIENT_SIGNER,
        usages: over.usages ?? ['digital signature', 'client auth'],
        username: over.username ?? `system:bootstrap:${tokenId}`,
        groups: over.groups ?? ['system:bootstrappers', NODE_JOIN_BOOTSTRAP_GROUP, joinTokenGroup(nodeName), 'system:authenticated'],
      },
    };
  };

  it("approves the kubelet client CSR of the ticket's token for the ticket's node", () => {
    expect(judgeJoinCsr(csr(), { tokenId, nodeName })).toEqual({ approve: true });
    expect(judgeJoinCsr(csr({ usages: ['digital signature', 'key encipherment', 'client auth'] }), { tokenId, nodeName })).toEqual({ approve: true });
  });

  it.each([
    ['another node name', { cn: 'system:node:edge-8' }, 'edge-8', /common name system:node:edge-8, not system:node:edge-7.shop/],
    ['a CN that is no node', { cn: 'admin' }, 'admin', /common name admin/],
    ['extra organizations', { orgs: ['system:nodes', 'system:masters'] }, nodeName, /organizations system:nodes, system:masters/],
    ['another requester', { username: 'system:bootstrap:zzz999' }, nodeName, /requested by system:bootstrap:zzz999/],
    ['a token bound to another node', { groups: ['system:bootstrappers', joinTokenGroup('edge-8')] }, nodeName, /do not bind it to node edge-7.shop/],
    ['another signer', { signer: 'kubernetes.io/kube-apiserver-client' }, nodeName, /signer kubernetes.io\/kube-apiserver-client/],
    ['server usages', { usages: ['digital signature', 'server auth'] }, nodeName, /usages/],
  ])('denies %s', (_name, over, claimed, reason) => {
    const verdict = judgeJoinCsr(csr(over), { tokenId, nodeName });
    expect(verdict).toMatchObject({ approve: false, claimed });
    expect((verdict as { reason: string }).reason).toMatch(reason);
  });
});

describe('joinState', () => {
  const now = new Date('2026-12-07T12:00:00Z');
  const expiresAt = new Date('2026-12-07T13:00:00Z');
  it.each([
    ['no token', null, false, 'not-issued'],
    ['token live', { expiresAt }, false, 'waiting'],
    ['token past expiry', { expiresAt: new Date('2026-12-07T11:00:00Z') }, false, 'expired'],
    ['revoked at expiry', { expiresAt, revokedAt: new Date('2026-12-07T13:00:01Z') }, false, 'expired'],
    ['revoked early', { expiresAt, revokedAt: new Date('2026-12-07T12:10:00Z') }, false, 'revoked'],
    ['joined (token revoked after)', { expiresAt, revokedAt: new Date('2026-12-07T12:10:00Z') }, true, 'joined'],
  ] as const)('%s → %s', (_name, token, joined, state) => {
    expect(joinState(token, joined, now)).toBe(state);
  });
});
