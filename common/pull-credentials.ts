/**
 * Image pull credentials per VDC (issue 17): every namespace of a VDC (its default namespace on each pool and
 * every application space) holds one `kubernetes.io/dockerconfigjson` Secret named {@link PULL_SECRET_NAME}, and
 * its `default` ServiceAccount and every pod template Edgeport deploys reference it.
 * - Local registry: a per-VDC pull credential made by the worker (random, stored sealed and hashed in
 *   `vdc_pull_credentials`, never in a workflow payload or history). Username {@link pullCredentialUsername},
 *   password starting with {@link PULL_CREDENTIAL_PREFIX}. Edgeport's token service grants it `pull` on the VDC's
 *   own repositories (`vdc-<id>/…`) and the public ones (`public/…`) only: never push, never staging, never another
 *   VDC's.
 * - Harbor: the VDC's robot account (pull only, `robot$vdc-<id>+edgeport-<id>`) with its current sealed secret.
 */
export const PULL_SECRET_NAME = 'edgeport-pull';

/** Every pull-credential password starts with this (API tokens start with `ep_`), so the token service can tell them apart. */
export const PULL_CREDENTIAL_PREFIX = 'eppull_';

/** The registry username of a VDC's local pull credential. */
export const pullCredentialUsername = (vdcId: string): string => `vdc-${vdcId}-pull`;

/** The VDC a pull-credential username names, or null when it is not one. */
export function vdcOfPullUsername(username: string): string | null {
  const m = /^vdc-([a-z0-9]([a-z0-9-]*[a-z0-9])?)-pull$/.exec(username);
  return m ? m[1]! : null;
}

/** Failure type names of the pull-credential activities (non-retryable). */
export const PULL_CREDENTIAL_FAILURES = {
  /** The worker has no credentials key to seal or open the credential with. */
  noCipher: 'PullCredentialNoKey',
  /** The sealed credential cannot be opened with the configured keys (key removed, record tampered). */
  unreadable: 'PullCredentialUnreadable',
} as const;

/** Patch ids guarding the pull-secret steps in workflows recorded before them (see `workflows/__fixtures__`). */
export const PULL_SECRET_PATCHES = {
  vdcLifecycle: 'vdc-pull-secrets',
  vdcDelete: 'vdc-pull-credential-delete',
  spaceCreate: 'space-pull-secret',
} as const;

/** What writing a namespace's pull Secret did (no secret value). */
export interface PullSecretOutcome {
  /** `none`: the worker has no registry configured; `pending`: Harbor's robot is not provisioned yet. */
  driver: 'local' | 'harbor' | 'none';
  outcome: 'applied' | 'absent' | 'skipped' | 'pending';
  /** The registry host the Secret authenticates to. */
  registry?: string;
}
