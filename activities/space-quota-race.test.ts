import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readQuota } from '../infra/kube/quota.ts';
import { createKubeClients } from '../infra/kube/client.ts';
import { createSpaceActivities, type SpaceArgs } from './application-space.ts';
import { applyVdcQuota } from './quota-change.ts';
import { spaceNamespace, type Quota } from '../common/tickets.ts';
import { seedVdc } from '../stack/seed.ts';
import { stackEnv, testPoolClients, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * A quota change racing an application-space creation (found by the reliability bench): the space's
 * workflow applied the VDC's old quota, the change recorded and applied the new one to the spaces it knew
 * (the new space was not recorded yet), and the space was left on the old quota for good. The
 * interleaving is played step by step against the real kube-apiserver and MongoDB.
 */
const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));
let store: Store;

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
});
afterAll(async () => {
  await store?.close();
});

describe('quota change racing a space creation', () => {
  it('the new space ends on the quota recorded last, whichever step interleaves', async () => {
    const vdcId = uniqueName('race');
    const oldQuota: Quota = { cpu: 2, memoryGi: 4, pods: 10 };
    const newQuota: Quota = { cpu: 5, memoryGi: 8, pods: 25 };
    await seedVdc(store, kube, { id: vdcId, name: vdcId, domainId: 'race-domain', quota: oldQuota });
    const vdc = { id: vdcId, name: vdcId, domainId: 'race-domain', namespace: `vdc-${vdcId}`, pool: 'local' };
    const args: SpaceArgs = { vdc, space: { name: 'web', namespace: spaceNamespace(vdcId, 'web') } };
    const activities = createSpaceActivities({ pools: testPoolClients(store), store, crashPoint: () => undefined });
    const ticketId = uniqueName('tkt');

    await activities.applySpaceNamespace({ ...args, ticketId, labels: {} });
    expect((await activities.applySpaceQuota(args)).quota).toEqual(oldQuota);
    // The quota change runs now: the space is not recorded on the VDC yet, so only the first namespace gets it.
    expect(await applyVdcQuota({ pools: testPoolClients(store), store }, vdc, newQuota)).toEqual([vdc.namespace]);
    expect((await readQuota(kube, args.space.namespace)).hard.pods).toBe(oldQuota.pods);

    await activities.recordSpace({ ...args, ticketId });

    const hard = (await readQuota(kube, args.space.namespace)).hard;
    expect({ cpu: hard.cpu, pods: hard.pods }).toEqual({ cpu: newQuota.cpu, pods: newQuota.pods });
    expect((await readQuota(kube, vdc.namespace)).hard.pods).toBe(newQuota.pods);
  });
});
