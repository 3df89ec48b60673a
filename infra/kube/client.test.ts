import { ApiException } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { mapKubeError } from './client.ts';

const failureOf = (code: number, opts?: { credentialsRefused?: string; retryable?: boolean }): ApplicationFailure => {
  try {
    mapKubeError(new ApiException(code, `HTTP ${code}`, { message: `status ${code}` }, {}), 'read quota', opts);
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('mapKubeError returned');
};

describe('mapKubeError', () => {
  it.each([400, 404, 422])('a %i refusal is a non-retryable KubernetesRefused naming the call', (code) => {
    const f = failureOf(code);
    expect(f).toMatchObject({ type: 'KubernetesRefused', nonRetryable: true, message: `read quota: status ${code}` });
  });

  it.each([401, 403])('a %i to the worker itself is retried (a restarted apiserver answers 403 until its caches are warm)', (code) => {
    expect(failureOf(code)).toMatchObject({ type: 'KubernetesAuthRefused', nonRetryable: false });
  });

  it("a 403 to stored pool credentials is the caller's non-retryable type", () => {
    expect(failureOf(403, { credentialsRefused: 'PoolCredentialsRefused' })).toMatchObject({ type: 'PoolCredentialsRefused', nonRetryable: true });
    // Callers with a bounded retry window (node join) ride out the 403 of a kube-apiserver that just restarted.
    expect(failureOf(403, { credentialsRefused: 'PoolCredentialsRefused', retryable: true })).toMatchObject({
      type: 'PoolCredentialsRefused',
      nonRetryable: false,
    });
  });

  it('conflicts, throttling and server errors are rethrown as they are, for Temporal to retry', () => {
    for (const code of [409, 429, 500, 503]) {
      const err = new ApiException(code, 'x', {}, {});
      expect(() => mapKubeError(err, 'apply')).toThrow(err);
    }
  });
});
