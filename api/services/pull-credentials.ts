import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../../common/audit.ts';
import { PULL_SECRET_NAME, pullCredentialUsername } from '../../common/pull-credentials.ts';
import type { Store } from '../../store/index.ts';
import type { PullCredentialStore } from '../../store/pull-credentials.ts';
import { ConflictError, HttpError, NotFoundError } from '../errors.ts';
import type { Caller } from './caller.ts';
import type { VdcLifecycle } from './vdc-lifecycle.ts';

/** What the API shows of a VDC's pull credential: names and times, never the secret. */
export interface PullCredentialView {
  vdcId: string;
  /** The Secret every namespace of the VDC holds (and its `default` ServiceAccount references). */
  secretName: string;
  /** `local`: Edgeport's per-VDC credential; `harbor`: the VDC's robot account. */
  driver: 'local' | 'harbor';
  /** Local registry: the registry username of the credential. */
  username?: string;
  /** Id of the rotation that made the current secret (`initial` before any rotation); null: not made yet. */
  rotationId: string | null;
  rotatedAt: string | null;
}

export interface PullCredentialServiceDeps {
  store: Store;
  credentials: PullCredentialStore;
  vdcLifecycle?: VdcLifecycle;
  audit: AuditLog;
  driver: 'local' | 'harbor';
}

/** Temporal could not be reached: nothing was requested (503, try again). */
class LifecycleUnavailable extends HttpError {
  constructor(cause: unknown) {
    super(503, 'Service Unavailable', 'the VDC lifecycle workflow could not be reached; nothing was rotated');
    this.cause = cause;
  }
}

const actorOf = (c: Caller) => ({ sub: c.sub, name: c.name });

/** Pull credentials per VDC: read their metadata, rotate them (through the VDC's lifecycle workflow). */
export function pullCredentialService(deps: PullCredentialServiceDeps) {
  async function vdcOf(vdcId: string) {
    const vdc = await deps.store.vdcs.get(vdcId);
    if (!vdc) throw new NotFoundError('no such VDC');
    return vdc;
  }
  return {
    async vdcScope(vdcId: string): Promise<{ vdcId: string; domainId: string }> {
      const vdc = await vdcOf(vdcId);
      return { vdcId: vdc._id, domainId: vdc.domainId };
    },

    async get(vdcId: string): Promise<PullCredentialView> {
      await vdcOf(vdcId);
      const info = deps.driver === 'local' ? await deps.credentials.info(vdcId) : null;
      return {
        vdcId,
        secretName: PULL_SECRET_NAME,
        driver: deps.driver,
        ...(deps.driver === 'local' ? { username: pullCredentialUsername(vdcId) } : {}),
        rotationId: info?.rotationId ?? null,
        rotatedAt: info?.rotatedAt ? new Date(info.rotatedAt).toISOString() : null,
      };
    },

    /**
     * Asks the VDC's lifecycle workflow to replace its pull credential (local registry: a new secret, the old one
     * refused by the token service once replaced; Harbor: the robot's secret refreshed) and rewrite the Secret in
     * every namespace of the VDC. Returns the rotation's id at once (202); `get` shows it once done. Audited
     * `vdc.pull-credential.rotate`. Refused (409) while the VDC is being deleted.
     */
    async rotate(caller: Caller, vdcId: string, meta: { ip?: string }): Promise<{ vdcId: string; rotationId: string; workflowId: string }> {
      const vdc = await vdcOf(vdcId);
      if (vdc.provisioning?.state === 'deleting') throw new ConflictError(`VDC ${vdcId} is being deleted`);
      const audited = { actor: actorOf(caller), action: 'vdc.pull-credential.rotate', target: `vdc:${vdcId}`, ...meta };
      const rotationId = randomUUID();
      if (!deps.vdcLifecycle) {
        await deps.audit.append({ ...audited, outcome: 'failure', details: { error: 'no VDC lifecycle workflow configured' } });
        throw new LifecycleUnavailable(new Error('no VDC lifecycle workflow configured'));
      }
      try {
        const { workflowId } = await deps.vdcLifecycle.request(vdcId, 'rotate-pull-credential', actorOf(caller), { rotationId });
        await deps.audit.append({ ...audited, outcome: 'success', details: { rotationId, workflowId } });
        return { vdcId, rotationId, workflowId };
      } catch (err) {
        await deps.audit.append({ ...audited, outcome: 'failure', details: { rotationId, error: err instanceof Error ? err.message : String(err) } });
        throw new LifecycleUnavailable(err);
      }
    },
  };
}
export type PullCredentialService = ReturnType<typeof pullCredentialService>;
