import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import type { AuditInput, AuditLog } from '../../common/audit.ts';
import {
  CONFIG_FAILURES,
  CONFIG_MAX_BYTES,
  configItemWorkflowId,
  type ConfigEntry,
  type ConfigItemView,
  type ConfigKind,
  type ConfigMapBody,
  type SecretBody,
} from '../../common/config-items.ts';
import { spaceNamespace } from '../../common/tickets.ts';
import type { WorkloadSpec } from '../../common/workload.ts';
import { configItemAad, configItemId, type ConfigContent, type ConfigItemRecord, type StoredKey } from '../../store/config-items.ts';
import type { CredentialCipher } from '../../store/credentials.ts';
import type { Store } from '../../store/index.ts';
import type { applyConfigItemWorkflow, deleteConfigItemWorkflow } from '../../workflows/config-items.ts';
import { ConflictError, HttpError, InputError, NotFoundError } from '../errors.ts';
import { PULL_SECRET_NAME } from '../../common/pull-credentials.ts';
import type { Caller } from './caller.ts';

export interface ConfigItemServiceDeps {
  store: Store;
  temporal: Client;
  taskQueue: string;
  /** Seals Secret values before they are stored; the API never opens them. */
  cipher: CredentialCipher;
  audit: AuditLog;
  /** Execution timeout (ms) of one apply / delete workflow. */
  timeoutMs?: number;
}

export interface ConfigRequestMeta {
  ip?: string;
}

/** Where an item lives: the VDC and the namespace of one of its spaces (or its default namespace). */
export interface ConfigScope {
  vdcId: string;
  space?: string;
}

const actorOf = (c: Caller) => ({ sub: c.sub, name: c.name });
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const bad = (field: string, msg: string): InputError => new InputError(`invalid request: ${field}: ${msg}`, [{ field, message: msg }]);

/** The bytes of one entry (text as UTF-8, or decoded base64). */
const bytesOf = (e: ConfigEntry): Buffer => (e.base64 ? Buffer.from(e.value, 'base64') : Buffer.from(e.value, 'utf8'));

function checkTotal(keys: StoredKey[], field: string): void {
  const total = keys.reduce((n, k) => n + k.size, 0);
  if (total > CONFIG_MAX_BYTES) throw bad(field, `values add up to ${total} bytes; at most ${CONFIG_MAX_BYTES} are allowed`);
}

/** A ConfigMap's content: text values in `data`, binary ones (not valid UTF-8) in `binaryData`. */
function configMapContent(entries: ConfigEntry[]): Pick<ConfigContent, 'data' | 'binaryData' | 'keys'> {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  const keys: StoredKey[] = [];
  for (const e of entries) {
    const bytes = bytesOf(e);
    const text = bytes.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(bytes)) data[e.key] = text;
    else binaryData[e.key] = bytes.toString('base64');
    keys.push({ key: e.key, size: bytes.length, ...(e.key in binaryData ? { binary: true } : {}) });
  }
  checkTotal(keys, 'entries');
  return { data, ...(Object.keys(binaryData).length ? { binaryData } : {}), keys };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** A TLS Secret's two values after checking they are a PEM certificate and the private key matching it. */
export function tlsValues(tls: { cert: string; key: string }): Record<string, Buffer> {
  if (!PEM_CERT.test(tls.cert)) throw bad('tls.cert', 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(tls.cert);
  } catch {
    throw bad('tls.cert', 'is not a readable X.509 certificate');
  }
  if (!/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(tls.key)) throw bad('tls.key', 'must be a PEM private key (-----BEGIN PRIVATE KEY-----)');
  if (tls.key.includes('ENCRYPTED')) throw bad('tls.key', 'must not be encrypted with a passphrase');
  let key;
  try {
    key = createPrivateKey({ key: tls.key, format: 'pem' });
  } catch {
    throw bad('tls.key', 'is not a readable private key');
  }
  if (!cert.checkPrivateKey(key)) throw bad('tls.key', 'does not match the certificate in tls.cert');
  return { 'tls.crt': Buffer.from(tls.cert, 'utf8'), 'tls.key': Buffer.from(tls.key, 'utf8') };
}

/** Names of keys a recorded workload uses from `kind`/`name` (env refs, file mounts, Ingress TLS). */
export function workloadReferences(spec: WorkloadSpec, kind: ConfigKind, name: string): boolean {
  if (kind === 'ConfigMap' && (spec.configMaps ?? []).some((c) => c.name === name)) return false;
  if (kind === 'Secret' && spec.ingress?.tlsSecretName === name) return true;
  return spec.containers.some(
    (c) =>
      (c.env ?? []).some(
        (e) =>
          (kind === 'ConfigMap' && 'configMapRef' in e && e.configMapRef.name === name) || (kind === 'Secret' && 'secretRef' in e && e.secretRef.name === name),
      ) || (c.configMounts ?? []).some((m) => (kind === 'ConfigMap' ? m.configMap === name : m.secret === name)),
  );
}

/**
 * The config center: ConfigMaps and Secrets of a VDC's namespaces. Every change is stored first (Secret
 * values sealed, AES-256-GCM bound to the record), then applied to the cluster by a short workflow that
 * carries ids only; a change the cluster refuses (or that does not finish) is rolled back in the store and,
 * where the cluster may have taken it, on the cluster too. Reads never return a Secret's values.
 */
export function configItemService(deps: ConfigItemServiceDeps) {
  const { store, temporal, taskQueue, cipher, audit } = deps;
  const timeoutMs = deps.timeoutMs ?? 60_000;
  const record = (entry: AuditInput): Promise<unknown> => audit.append(entry);

  /** The namespace of the scope; an unknown VDC is 404, an unknown space a 400 naming `space`. */
  async function namespaceOf(scope: ConfigScope): Promise<{ namespace: string; space?: string }> {
    const vdc = await store.vdcs.get(scope.vdcId);
    if (!vdc) throw new NotFoundError(`VDC ${scope.vdcId} not found`);
    if (!scope.space) return { namespace: vdc.namespace };
    const space = (vdc.spaces ?? []).find((s) => s.name === scope.space);
    if (!space || space.status !== 'active') throw bad('space', `VDC ${scope.vdcId} has no application space ${scope.space}`);
    return { namespace: space.namespace ?? spaceNamespace(scope.vdcId, scope.space), space: space.name };
  }

  const view = (r: ConfigItemRecord): ConfigItemView => ({
    kind: r.kind,
    name: r.name,
    vdcId: r.vdcId,
    namespace: r.namespace,
    ...(r.space ? { space: r.space } : {}),
    ...(r.kind === 'Secret' ? { type: r.type ?? 'opaque' } : {}),
    keys: r.keys.map((k) => ({
      key: k.key,
      size: k.size,
      ...(r.kind === 'ConfigMap' && !k.binary && r.data?.[k.key] !== undefined ? { value: r.data[k.key] } : {}),
      ...(k.binary ? { binary: true } : {}),
    })),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    updatedBy: r.updatedBy,
  });

  /** Runs one apply / delete workflow; a failure becomes an HTTP error (refusals 422, timeouts 504). */
  async function run<T>(what: string, start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
      if (cause instanceof ApplicationFailure) {
        if (cause.type === 'KubernetesRefused') throw new HttpError(422, 'Unprocessable Content', `${what}: the cluster refused it: ${cause.message}`);
        if (cause.type === CONFIG_FAILURES.stale) throw new ConflictError(`${what}: changed concurrently, try again`);
        if (cause.type === CONFIG_FAILURES.unreadable)
          throw new HttpError(
            500,
            'Internal Server Error',
            `${what}: the worker cannot open the stored values (credentials key differs between api and worker)`,
          );
      }
      if (cause instanceof TimeoutFailure || err.cause instanceof TimeoutFailure)
        throw new HttpError(504, 'Gateway Timeout', `${what}: the cluster did not answer in time`);
      throw new HttpError(502, 'Bad Gateway', `${what}: ${message(cause ?? err)}`);
    }
  }

  const applyRevision = (namespace: string, kind: ConfigKind, name: string, revision: number, what: string) =>
    run(what, () =>
      temporal.workflow.execute<typeof applyConfigItemWorkflow>('applyConfigItemWorkflow', {
        taskQueue,
        workflowId: configItemWorkflowId(namespace, kind, name, 'apply', randomBytes(4).toString('hex')),
        args: [configItemId(namespace, kind, name), revision],
        workflowExecutionTimeout: timeoutMs,
      }),
    );

  const deleteFromCluster = (namespace: string, kind: ConfigKind, name: string, what: string) =>
    run(what, () =>
      temporal.workflow.execute<typeof deleteConfigItemWorkflow>('deleteConfigItemWorkflow', {
        taskQueue,
        workflowId: configItemWorkflowId(namespace, kind, name, 'delete', randomBytes(4).toString('hex')),
        args: [namespace, kind, name],
        workflowExecutionTimeout: timeoutMs,
      }),
    );

  /**
   * Applies the stored pending revision; on failure rolls the store back and, unless the cluster refused
   * (nothing changed there), puts the cluster back too (best effort: the previous revision again, or a
   * delete after a create).
   */
  async function applyOrRollback(id: string, revision: number, kind: ConfigKind, namespace: string, name: string, what: string): Promise<void> {
    try {
      await applyRevision(namespace, kind, name, revision, what);
      await store.configItems.markApplied(id, revision);
    } catch (err) {
      await store.configItems.rollback(id, revision);
      const refused = err instanceof HttpError && (err.status === 422 || err.status === 409);
      if (!refused) {
        const restored = await store.configItems.get(namespace, kind, name);
        const undo = restored
          ? applyRevision(namespace, kind, name, restored.revision, `restore ${what}`)
          : deleteFromCluster(namespace, kind, name, `undo ${what}`);
        await undo.catch(() => undefined);
      }
      throw err;
    }
  }

  async function existing(scope: ConfigScope, kind: ConfigKind, name: string): Promise<{ rec: ConfigItemRecord; namespace: string }> {
    const { namespace } = await namespaceOf(scope);
    const rec = await store.configItems.get(namespace, kind, name);
    if (!rec || rec.vdcId !== scope.vdcId) throw new NotFoundError(`no ${kind} ${name} in ${namespace}`);
    return { rec, namespace };
  }

  /** Content of a body: a ConfigMap's values as they are; a Secret's sealed, with only keys and sizes in the clear. */
  function contentOf(kind: ConfigKind, body: ConfigMapBody | SecretBody, namespace: string, name: string, caller: Caller): ConfigContent {
    const base = { updatedAt: new Date().toISOString(), updatedBy: actorOf(caller) };
    if (kind === 'ConfigMap') return { ...base, ...configMapContent((body as ConfigMapBody).entries) };
    const s = body as SecretBody;
    const values: Record<string, Buffer> = s.type === 'tls' ? tlsValues(s.tls) : Object.fromEntries(s.entries.map((e) => [e.key, bytesOf(e)]));
    const keys = Object.entries(values).map(([key, v]) => ({ key, size: v.length }));
    checkTotal(keys, s.type === 'tls' ? 'tls' : 'entries');
    const plain = JSON.stringify(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.toString('base64')])));
    return { ...base, type: s.type, sealed: cipher.seal(plain, configItemAad(namespace, name)), keys };
  }

  const target = (vdcId: string, namespace: string, kind: ConfigKind, name: string) => `vdc:${vdcId}/${namespace}/${kind.toLowerCase()}:${name}`;

  return {
    /** For the route's permission check: the VDC's scope (404 when it does not exist). */
    async vdcScope(id: string): Promise<{ vdcId: string; domainId: string }> {
      const vdc = await store.vdcs.get(id);
      if (!vdc) throw new NotFoundError(`VDC ${id} not found`);
      return { vdcId: vdc._id, domainId: vdc.domainId };
    },

    /** Items of one namespace of the VDC (`space` absent: the default namespace; `all`: every namespace). */
    async list(scope: ConfigScope & { all?: boolean }, kind?: ConfigKind): Promise<ConfigItemView[]> {
      const items = scope.all ? await store.configItems.listVdc(scope.vdcId) : await store.configItems.list((await namespaceOf(scope)).namespace);
      return items.filter((r) => r.vdcId === scope.vdcId && (!kind || r.kind === kind)).map(view);
    },

    async get(scope: ConfigScope, kind: ConfigKind, name: string): Promise<ConfigItemView> {
      return view((await existing(scope, kind, name)).rec);
    },

    /** Creates an item: stored pending, applied by the worker, confirmed (or removed again). Audited without values. */
    async create(caller: Caller, vdcId: string, kind: ConfigKind, body: ConfigMapBody | SecretBody, meta: ConfigRequestMeta): Promise<ConfigItemView> {
      if (!body.name) throw bad('name', 'is required');
      // The VDC's image pull Secret lives under this name in every namespace of the VDC (activities/pull-secrets.ts).
      if (kind === 'Secret' && body.name === PULL_SECRET_NAME) throw bad('name', `is reserved for the VDC's image pull Secret`);
      const name = body.name;
      const { namespace, space } = await namespaceOf({ vdcId, ...(body.space ? { space: body.space } : {}) });
      const content = contentOf(kind, body, namespace, name, caller);
      const details = { kind, name, namespace, ...(content.type ? { type: content.type } : {}), keys: content.keys.map((k) => k.key) };
      const tgt = target(vdcId, namespace, kind, name);
      const id = configItemId(namespace, kind, name);
      if (!(await store.configItems.insertPending({ vdcId, namespace, ...(space ? { space } : {}), kind, name, ...content }))) {
        await record({
          actor: actorOf(caller),
          action: 'config.create',
          target: tgt,
          outcome: 'failure',
          details: { ...details, reason: 'name taken' },
          ...meta,
        });
        throw new ConflictError(`${kind} ${name} already exists in ${namespace}`);
      }
      try {
        await applyOrRollback(id, 1, kind, namespace, name, `create ${kind} ${name}`);
      } catch (err) {
        await record({
          actor: actorOf(caller),
          action: 'config.create',
          target: tgt,
          outcome: 'failure',
          details: { ...details, reason: message(err) },
          ...meta,
        });
        throw err;
      }
      await record({ actor: actorOf(caller), action: 'config.create', target: tgt, outcome: 'success', details, ...meta });
      return view((await existing({ vdcId, ...(space ? { space } : {}) }, kind, name)).rec);
    },

    /** Replaces an item's whole content (a Secret's type cannot change: Kubernetes keeps it immutable). */
    async replace(
      caller: Caller,
      scope: ConfigScope,
      kind: ConfigKind,
      name: string,
      body: ConfigMapBody | SecretBody,
      meta: ConfigRequestMeta,
    ): Promise<ConfigItemView> {
      if (body.name !== undefined && body.name !== name) throw bad('name', `must be ${name} (the name in the path) or left out`);
      if (body.space !== undefined && body.space !== scope.space) throw bad('space', 'must match the space query parameter or be left out');
      const { rec, namespace } = await existing(scope, kind, name);
      if (kind === 'Secret' && (rec.type ?? 'opaque') !== (body as SecretBody).type)
        throw bad('type', `a Secret's type cannot change (it is ${rec.type ?? 'opaque'}); delete it and create a new one`);
      const content = contentOf(kind, body, namespace, name, caller);
      const details = { kind, name, namespace, ...(content.type ? { type: content.type } : {}), keys: content.keys.map((k) => k.key) };
      const tgt = target(scope.vdcId, namespace, kind, name);
      const id = configItemId(namespace, kind, name);
      const revision = await store.configItems.replacePending(id, content);
      if (revision === undefined) {
        await record({
          actor: actorOf(caller),
          action: 'config.replace',
          target: tgt,
          outcome: 'failure',
          details: { ...details, reason: 'another change is in progress' },
          ...meta,
        });
        throw new ConflictError(`${kind} ${name} is being changed; try again`);
      }
      try {
        await applyOrRollback(id, revision, kind, namespace, name, `replace ${kind} ${name}`);
      } catch (err) {
        await record({
          actor: actorOf(caller),
          action: 'config.replace',
          target: tgt,
          outcome: 'failure',
          details: { ...details, reason: message(err) },
          ...meta,
        });
        throw err;
      }
      await record({ actor: actorOf(caller), action: 'config.replace', target: tgt, outcome: 'success', details, ...meta });
      return view((await existing(scope, kind, name)).rec);
    },

    /** Deletes an item no recorded workload of its namespace uses (409 naming them otherwise). */
    async remove(caller: Caller, scope: ConfigScope, kind: ConfigKind, name: string, meta: ConfigRequestMeta): Promise<void> {
      const { namespace } = await existing(scope, kind, name);
      const tgt = target(scope.vdcId, namespace, kind, name);
      const users = (await store.workloads.list(scope.vdcId))
        .filter((w) => w.namespace === namespace && workloadReferences(w.spec, kind, name))
        .map((w) => w.name);
      if (users.length > 0) {
        await record({
          actor: actorOf(caller),
          action: 'config.delete',
          target: tgt,
          outcome: 'failure',
          details: { kind, name, namespace, reason: 'in use', workloads: users },
          ...meta,
        });
        throw new ConflictError(
          `${kind} ${name} is used by workload${users.length > 1 ? 's' : ''} ${users.join(', ')}; change or delete ${users.length > 1 ? 'them' : 'it'} first`,
        );
      }
      const id = configItemId(namespace, kind, name);
      const revision = await store.configItems.markDeleting(id);
      if (revision === undefined) throw new ConflictError(`${kind} ${name} is being changed; try again`);
      try {
        await deleteFromCluster(namespace, kind, name, `delete ${kind} ${name}`);
      } catch (err) {
        await store.configItems.unmarkDeleting(id, revision);
        await record({
          actor: actorOf(caller),
          action: 'config.delete',
          target: tgt,
          outcome: 'failure',
          details: { kind, name, namespace, reason: message(err) },
          ...meta,
        });
        throw err;
      }
      await store.configItems.remove(id, revision);
      await record({ actor: actorOf(caller), action: 'config.delete', target: tgt, outcome: 'success', details: { kind, name, namespace }, ...meta });
    },
  };
}
export type ConfigItemService = ReturnType<typeof configItemService>;
