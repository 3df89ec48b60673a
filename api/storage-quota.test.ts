import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import { createKubeClients } from '../infra/kube/client.ts';
import { readQuota } from '../infra/kube/quota.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Issue 19, "storage is quota" and "money never overflows", against the real stack (api and worker processes,
 * kube-apiserver, Temporal, MongoDB): volume sizes are bounded, requested storage is held to the VDC's
 * `requests.storage` quota (volume API, StatefulSet claim templates, and the kube-apiserver's own
 * ResourceQuota), a quota change raises it, and a ledger line no report can price is listed under `errors`
 * (the report still 200) until finance voids it.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('sq');
const domainId = uniqueName('sqd');
const ns = namespaceOf(vdcId);
const volumes = `/vdcs/${vdcId}/volumes`;

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const { call, login, ticketStatus } = testHttp({ prefix: '/api' });

const fields = (body: { errors?: { field: string }[] }): string[] => (body.errors ?? []).map((e) => e.field);
const month = new Date().toISOString().slice(0, 7);
/** Lines inserted by hand start with the month, so the report (which bills up to the current hour) prices them. */
const monthStart = new Date(`${month}-01T00:00:00.000Z`);

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await store.domains.create({ _id: domainId, name: domainId });
  await seedVdc(store, kube, { id: vdcId, name: 'Storage quota VDC', domainId, quota: { cpu: 4, memoryGi: 8, pods: 20, storageGi: 10 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
  api = startApp(repoDir, 'api', env);
  const w = startApp(repoDir, 'worker', env);
  await Promise.all([waitForWorker(w, 240_000), waitForApi(api, base, 240_000)]);
  worker = w;
  await login('tenant', 'vdcadmin', 'finance', 'opsadmin');
}, 300_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('storage is quota', () => {
  it('a size beyond any bound is a 400 naming size; nothing is stored', async () => {
    for (const size of ['99999999999999999999Ti', '100000Ti', '65Ti', '0Gi', '1e3Gi']) {
      const r = await call('tenant', 'POST', volumes, { name: 'h4huge', size, accessMode: 'ReadWriteOnce' });
      expect(r.status, size).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(fields(r.body), size).toEqual(['size']);
    }
    expect((await call('tenant', 'POST', volumes, { name: 'h4huge', size: '100000Ti', accessMode: 'ReadWriteOnce' })).body.errors[0].message).toMatch(
      /at most 64Ti/,
    );
    expect(await store.volumes.list(vdcId)).toEqual([]);
  });

  it('the ResourceQuota carries requests.storage and the kube-apiserver enforces it', async () => {
    const rq: any = await kube.objects.read({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'edgeport-quota', namespace: ns } });
    expect(rq.spec.hard['requests.storage']).toBe('10Gi');
    const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'direct', namespace: ns } };
    const refused = await kube.objects
      .create({ ...claim, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '11Gi' } } } } as never)
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<unknown>).code).toBe(403);
    const body = (refused as ApiException<unknown>).body;
    expect(typeof body === 'string' ? body : JSON.stringify(body)).toMatch(/exceeded quota: edgeport-quota.*requests\.storage/);
  });

  it('a volume beyond the quota is a 422 naming size and the requests.storage quota; within it, create and expand work as before', async () => {
    const over = await call('tenant', 'POST', volumes, { name: 'h4huge', size: '1Ti', accessMode: 'ReadWriteOnce' });
    expect(over.status).toBe(422);
    expect(over.body.detail).toMatch(/^requests\.storage quota 10Gi of this VDC on pool local exceeded: volume h4huge \(1Ti\) needs 1024Gi/);
    expect(fields(over.body)).toEqual(['size']);
    expect(await store.volumes.list(vdcId)).toEqual([]);

    const ok = await call('tenant', 'POST', volumes, { name: 'data', size: '2Gi', accessMode: 'ReadWriteOnce' });
    expect(ok.status).toBe(201);
    const grow = await call('tenant', 'POST', `${volumes}/data/expand`, { size: '11Gi' });
    expect(grow.status).toBe(422);
    expect(grow.body.detail).toMatch(/requests\.storage quota 10Gi .*volume data \(11Gi\) needs 11Gi, 0Gi is requested already/);
    expect(fields(grow.body)).toEqual(['size']);
    expect((await call('tenant', 'POST', `${volumes}/data/expand`, { size: '3Gi' })).status).toBe(200);
    const second = await call('tenant', 'POST', volumes, { name: 'more', size: '8Gi', accessMode: 'ReadWriteOnce' });
    expect(second.status).toBe(422);
    expect(second.body.detail).toMatch(/3Gi is requested already \(11Gi in all\)/);
    const audit = await store.testing
      .collection(AUDIT_COLLECTION)
      .find({ action: 'volume.create', target: { $regex: `^vdc:${vdcId}/` } })
      .toArray();
    expect(audit.map((a) => a.target)).toEqual([`vdc:${vdcId}/volume:${ns}/data`]);
  });

  it('StatefulSet claim templates × replicas beyond the quota fail the deploy at preflight, naming the quota', async () => {
    const sub = await call('tenant', 'POST', '/tickets', {
      type: 'workload-deploy',
      vdcId,
      workload: {
        kind: 'StatefulSet',
        name: 'db',
        replicas: 3,
        containers: [
          {
            name: 'db',
            image: 'registry.invalid/db:1',
            requests: { cpu: '100m', memory: '64Mi' },
            limits: { cpu: '200m', memory: '128Mi' },
            volumeMounts: [{ volume: 'db-data', mountPath: '/data' }],
          },
        ],
        volumeClaimTemplates: [{ name: 'db-data', size: '4Gi', accessMode: 'ReadWriteOnce' }],
      },
    });
    expect(sub.status).toBe(201);
    const failed = await ticketStatus<{ status: string; error?: string; preview?: { errors?: string[] } }>('tenant', sub.body.id, 'failed', {
      timeout: 90_000,
    });
    expect(JSON.stringify(failed)).toMatch(/requests\.storage quota 10Gi of this VDC on pool local exceeded: workload db needs 12Gi/);
  }, 120_000);

  it('a quota change raises storage: the ResourceQuota carries it and a bigger volume then fits', async () => {
    const sub = await call('tenant', 'POST', '/tickets', { type: 'quota-change', vdcId, quota: { storageGi: 14 } });
    expect(sub.status).toBe(201);
    const pending = await ticketStatus<{ status: string; preview?: { hash: string; diff: unknown[] } }>('vdcadmin', sub.body.id, 'pending_approval');
    expect(pending.preview?.diff).toEqual([expect.objectContaining({ resource: 'storageGi', from: 10, to: 14 })]);
    const dec = await call('vdcadmin', 'POST', `/tickets/${sub.body.id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash });
    expect(dec.status).toBe(200);
    await ticketStatus('tenant', sub.body.id, 'completed');
    expect((await readQuota(kube, ns)).hard).toEqual({ cpu: 4, memoryGi: 8, pods: 20, storageGi: 14 });
    expect((await store.vdcs.get(vdcId))?.quota).toEqual({ cpu: 4, memoryGi: 8, pods: 20, storageGi: 14 });
    expect((await call('tenant', 'POST', volumes, { name: 'more', size: '8Gi', accessMode: 'ReadWriteOnce' })).status).toBe(201);
    // The storage quota is a cap, not billed: the quota line carries it, the report bills cpu/memory/pods from it.
    const [line] = await store.ledger.byWorkflow(sub.body.id);
    expect(line?.quantities).toEqual({ cpu: 4, memoryGi: 8, pods: 20, storageGi: 14 });
    const report = await call('finance', 'GET', `/reports/vdcs/${vdcId}?month=${month}&kind=chargeback`);
    expect(report.status).toBe(200);
    const fromQuota = report.body.invoices.flatMap((i: { lines: { resource: string; provenance: { workflowId: string } }[] }) =>
      i.lines.filter((l) => l.provenance.workflowId === sub.body.id).map((l) => l.resource),
    );
    expect(fromQuota).not.toContain('storage');
  }, 120_000);
});

describe('storage is quota: StatefulSet claims within the quota, then a scale-up past it', () => {
  it('deploys a StatefulSet whose claims fit; scaling it past requests.storage is a 422 naming operation.replicas', async () => {
    const sub = await call('tenant', 'POST', '/tickets', {
      type: 'workload-deploy',
      vdcId,
      workload: {
        kind: 'StatefulSet',
        name: 'kv',
        replicas: 1,
        containers: [
          {
            name: 'kv',
            image: 'registry.invalid/kv:1',
            requests: { cpu: '100m', memory: '64Mi' },
            limits: { cpu: '200m', memory: '128Mi' },
            volumeMounts: [{ volume: 'kv-data', mountPath: '/data' }],
          },
        ],
        volumeClaimTemplates: [{ name: 'kv-data', size: '1Gi', accessMode: 'ReadWriteOnce' }],
      },
    });
    expect(sub.status).toBe(201);
    const pending = await ticketStatus<{ status: string; preview?: { hash: string; errors: string[] } }>('vdcadmin', sub.body.id, 'pending_approval');
    expect(pending.preview?.errors).toEqual([]);
    expect((await call('vdcadmin', 'POST', `/tickets/${sub.body.id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status).toBe(200);
    await ticketStatus('tenant', sub.body.id, 'completed', { timeout: 120_000 });
    const scale = await call('tenant', 'POST', `/vdcs/${vdcId}/workloads/${ns}/kv/operations`, { operation: { op: 'scale', replicas: 5 } });
    expect(scale.status).toBe(422);
    expect(fields(scale.body)).toEqual(['operation.replicas']);
    expect(scale.body.detail).toMatch(/^quota: storageGi would be 1[56] of 14 in /);
  }, 180_000);
});

describe('money never overflows, one bad line never fails a report', () => {
  const badId = `volume-${vdcId}-create-bad/00000000-0000-4000-8000-000000000000/7`;

  it('the ledger refuses to store a line whose quantity is out of bounds', async () => {
    const id = `volume-${vdcId}-create-refused/00000000-0000-4000-8000-000000000000/3`;
    const refused = {
      _id: id,
      workflowId: `volume-${vdcId}-create-refused`,
      runId: '00000000-0000-4000-8000-000000000000',
      eventId: 3,
      fact: 'volume.storage' as const,
      vdcId,
      domainId,
      pool: 'local',
      quantities: { storageGi: 1.024e23 },
      units: { storageGi: 'GiB' },
      start: monthStart,
    };
    await expect(store.ledger.upsert(refused)).rejects.toThrow(/refused: quantity storageGi 1.024e\+23 is above the ledger's bound 1000000000/);
    await expect(store.ledger.upsert({ ...refused, quantities: { storageGi: Number.POSITIVE_INFINITY } })).rejects.toThrow(/not a finite number/);
    expect(await store.ledger.get(id)).toBeNull();
  });

  it('a line out of bounds in the ledger: every report scope still answers 200 and names it under errors', async () => {
    await store.testing.collection('ledgerlines').insertOne({
      _id: badId as never,
      workflowId: `volume-${vdcId}-create-bad`,
      runId: '00000000-0000-4000-8000-000000000000',
      eventId: 7,
      fact: 'volume.storage',
      vdcId,
      domainId,
      pool: 'local',
      subject: `${ns}/h4huge`,
      quantities: { storageGi: 1.024e23 },
      units: { storageGi: 'GiB' },
      start: monthStart,
      createdAt: new Date(),
    });
    const expected = { ledgerLineId: badId, vdcId, domainId, pool: 'local', reason: expect.stringMatching(/not a decimal with at most 6 fraction digits/) };
    for (const path of [`/reports/platform`, `/reports/vdcs/${vdcId}`, `/reports/domains/${domainId}`, `/reports/pools/local`]) {
      for (const kind of ['showback', 'chargeback']) {
        const r = await call('finance', 'GET', `${path}?month=${month}&kind=${kind}`);
        expect(r.status, `${path} ${kind}`).toBe(200);
        expect(r.body.errors, `${path} ${kind}`).toEqual([expected]);
        expect(r.body.voided).toEqual([]);
      }
    }
    const csv = await call('finance', 'GET', `/reports/platform?month=${month}&kind=chargeback&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(`error,${vdcId},${domainId},local,,,not a decimal`);
    const pdf = await call('finance', 'GET', `/reports/vdcs/${vdcId}?month=${month}&format=pdf`);
    expect(pdf.status).toBe(200);
    // The tenant sees its VDC's report with the error too (report:read on the VDC), never another VDC's.
    const own = await call('vdcadmin', 'GET', `/reports/vdcs/${vdcId}?month=${month}`);
    expect(own.status).toBe(200);
    expect(own.body.errors.map((e: { ledgerLineId: string }) => e.ledgerLineId)).toEqual([badId]);
  });

  it('voiding it is audited, keeps the line, and the next report is clean and lists it as voided', async () => {
    expect((await call('tenant', 'POST', '/ledger/voids', { lineId: badId, reason: 'huge volume from issue 19' })).status).toBe(403);
    expect((await call('vdcadmin', 'POST', '/ledger/voids', { lineId: badId, reason: 'huge volume from issue 19' })).status).toBe(403);
    const bad = await call('finance', 'POST', '/ledger/voids', { lineId: badId, reason: '' });
    expect(bad.status).toBe(400);
    expect(fields(bad.body)).toEqual(['reason']);
    expect((await call('finance', 'POST', '/ledger/voids', { lineId: `${badId}0`, reason: 'no such line' })).status).toBe(404);

    const voided = await call('finance', 'POST', '/ledger/voids', { lineId: badId, reason: 'huge volume from issue 19' });
    expect(voided.status).toBe(201);
    expect(voided.body).toMatchObject({ _id: badId, voided: { by: { name: expect.any(String) }, reason: 'huge volume from issue 19' } });
    expect((await call('opsadmin', 'POST', '/ledger/voids', { lineId: badId, reason: 'again' })).status).toBe(409);
    expect(await store.testing.collection('ledgerlines').countDocuments({ _id: badId as never })).toBe(1);
    const audit = await store.testing
      .collection(AUDIT_COLLECTION)
      .find({ action: 'ledger.void', target: `vdc:${vdcId}/ledger:${badId}` })
      .toArray();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ outcome: 'success', details: { reason: 'huge volume from issue 19' } });

    const r = await call('finance', 'GET', `/reports/platform?month=${month}&kind=showback`);
    expect(r.status).toBe(200);
    expect(r.body.errors).toEqual([]);
    expect(r.body.voided).toEqual([expect.objectContaining({ ledgerLineId: badId, vdcId, reason: 'huge volume from issue 19' })]);
    expect(r.body.rows.flatMap((row: { ledgerLines: string[] }) => row.ledgerLines)).not.toContain(badId);
  });

  it('the ledger CLI voids a line the same audited way', async () => {
    const id = `volume-${vdcId}-create-bad2/00000000-0000-4000-8000-000000000000/9`;
    await store.testing.collection('ledgerlines').insertOne({
      _id: id as never,
      workflowId: `volume-${vdcId}-create-bad2`,
      runId: '00000000-0000-4000-8000-000000000000',
      eventId: 9,
      fact: 'volume.storage',
      vdcId,
      domainId,
      pool: 'local',
      quantities: { storageGi: -1 },
      units: { storageGi: 'GiB' },
      start: monthStart,
      createdAt: new Date(),
    });
    const before = await call('finance', 'GET', `/reports/vdcs/${vdcId}?month=${month}`);
    expect(before.body.errors.map((e: { ledgerLineId: string }) => e.ledgerLineId)).toEqual([id]);
    const cli = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'api/cli.ts', 'ledger', 'void', id, '--reason', 'negative storage'], {
      cwd: repoDir,
      env: process.env,
    });
    expect(JSON.parse(cli.stdout)).toMatchObject({ outcome: 'voided', line: { _id: id, voided: { by: { sub: 'system:cli' }, reason: 'negative storage' } } });
    const after = await call('finance', 'GET', `/reports/vdcs/${vdcId}?month=${month}`);
    expect(after.body.errors).toEqual([]);
    expect(after.body.voided.map((v: { ledgerLineId: string }) => v.ledgerLineId).sort()).toEqual([badId, id].sort());
  });
});
