import type { PriceBookInput } from '../common/billing.ts';
import type { Role, Scope } from '../common/roles.ts';
import type { CreateVdc } from '../common/tenancy.ts';
import type { SubmitTicket, TicketStatus } from '../common/tickets.ts';
import type { WorkloadSpec } from '../common/workload.ts';
import type { DemoUsername } from './oidc/demo-users.ts';

/**
 * The demo `npm start` seeds through the API, as data: pools, a domain, VDCs with members, platform
 * bindings, a price book and tickets with the state each should end in. Pure (no I/O), so the shape of
 * the demo is unit-tested (`demo-plan.test.ts`) apart from the HTTP driver that plays it (`demo.ts`).
 */

/** A cluster of the stack to register through `POST /api/pools` (kubeconfig read from the app env). */
export interface DemoPool {
  id: string;
  name: string;
  /** App-env variable holding the path of the cluster's worker-identity kubeconfig (embedded certs). */
  kubeconfigEnv: string;
}

export interface DemoVdc extends CreateVdc {
  domainId: string;
  members: { user: DemoUsername; roles: Role[] }[];
}

/**
 * Where a demo ticket should end: `completed` (every approval step approved by an eligible demo user),
 * `rejected`, `pending_approval` (left in the inbox), `cancelled` (by its requester) — or `failed`, for a
 * request the cluster refuses at preflight — or `executing`, for an approved quota lease that is active until
 * it expires. Every approval step needs a decider other than the requester, so each VDC with tickets has a
 * second admin (`opsadmin` on `other`). Scaling is a direct operation (`POST …/operations`), not a ticket.
 */
export type DemoOutcome = Extract<TicketStatus, 'completed' | 'executing' | 'rejected' | 'pending_approval' | 'cancelled' | 'failed'>;

export interface DemoTicket {
  /** Stable key: the `Idempotency-Key` of the submit, so a second run finds the same ticket. */
  key: string;
  /** Who submits it (a member of the ticket's VDC). */
  as: DemoUsername;
  body: SubmitTicket;
  outcome: DemoOutcome;
  comment?: string;
  /** The registry must hold this staging image first (`image-publish`); the ticket is skipped without a registry. */
  needsImage?: { repository: string; tag: string };
}

/** Tickets that may run side by side; the steps of one group run in order. */
export type DemoTicketGroup = readonly DemoTicket[];

export interface DemoPlan {
  pools: DemoPool[];
  domain: { id: string; name: string };
  vdcs: DemoVdc[];
  bindings: { user: DemoUsername; role: Role; scope: Scope }[];
  priceBook: PriceBookInput;
  ticketGroups: DemoTicketGroup[];
}

export const DEMO_KEY_PREFIX = 'demo-seed-v1';

const app = (name: string, image: string, replicas: number, extra: Partial<WorkloadSpec> = {}): WorkloadSpec =>
  ({
    kind: 'Deployment',
    name,
    replicas,
    containers: [{ name: 'app', image, requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } }],
    ...extra,
  }) as WorkloadSpec;

/**
 * The demo plan. `registry`: the stack runs an OCI registry, so an image can be pushed to staging and
 * published. VDC ids `demo` and `other` (on `local`) are the ones README and docs refer to.
 */
export function demoPlan(opts: { registry: boolean }): DemoPlan {
  const t = (key: string, as: DemoUsername, outcome: DemoOutcome, body: SubmitTicket, extra: Partial<DemoTicket> = {}): DemoTicket => ({
    key: `${DEMO_KEY_PREFIX}-${key}`,
    as,
    outcome,
    body,
    ...extra,
  });
  const demo: DemoTicket[] = [
    t('demo-quota-up', 'tenant', 'completed', {
      type: 'quota-change',
      vdcId: 'demo',
      quota: { cpu: 6, memoryGi: 12, pods: 30 },
      reason: 'Demo: room for the web shop',
    }),
    t('demo-space-web', 'tenant', 'completed', {
      type: 'space-create',
      vdcId: 'demo',
      name: 'web',
      labels: { team: 'shop' },
      reason: 'Demo: a space for the web tier',
    }),
    t('demo-deploy-web', 'tenant', 'completed', {
      type: 'workload-deploy',
      vdcId: 'demo',
      workload: app('web', 'registry.invalid/demo/web:1.0', 2, { service: { type: 'ClusterIP', port: 80, targetPort: 8080 } }),
      reason: 'Demo: the shop front end',
    }),
    t('demo-deploy-worker', 'tenant', 'completed', {
      type: 'workload-deploy',
      vdcId: 'demo',
      workload: app('worker', 'registry.invalid/demo/worker:1.0', 1, { space: 'web' }),
      reason: 'Demo: background jobs',
    }),
    t('demo-deploy-legacy', 'tenant', 'completed', {
      type: 'workload-deploy',
      vdcId: 'demo',
      workload: app('legacy', 'registry.invalid/demo/legacy:0.9', 1),
      reason: 'Demo: the old shop, retired below',
    }),
    t('demo-delete-legacy', 'tenant', 'completed', {
      type: 'workload-operation',
      vdcId: 'demo',
      name: 'legacy',
      operation: { op: 'delete' },
      reason: 'Demo: retire the old shop',
    }),
    t('demo-lease', 'tenant', 'executing', {
      type: 'quota-lease',
      vdcId: 'demo',
      quota: { cpu: 8, memoryGi: 16, pods: 40 },
      durationHours: 72,
      reason: 'Demo: load test this week',
    }),
    t(
      'demo-quota-rejected',
      'tenant',
      'rejected',
      { type: 'quota-change', vdcId: 'demo', quota: { cpu: 12, memoryGi: 24, pods: 60 }, reason: 'Demo: double everything' },
      { comment: 'Too much for a demo shop; ask again with numbers' },
    ),
    t('demo-quota-cancelled', 'tenant', 'cancelled', {
      type: 'quota-change',
      vdcId: 'demo',
      quota: { cpu: 10, memoryGi: 20, pods: 50 },
      reason: 'Demo: asked by mistake',
    }),
    ...(opts.registry
      ? [
          t(
            'demo-image-publish',
            'tenant',
            'completed',
            {
              type: 'image-publish',
              vdcId: 'demo',
              source: { name: 'hello', tag: '1.0' },
              target: { visibility: 'private' },
              reason: 'Demo: publish the hello image',
            },
            { needsImage: { repository: 'staging-demo/hello', tag: '1.0' } },
          ),
        ]
      : []),
    t('demo-deploy-api-pending', 'tenant', 'pending_approval', {
      type: 'workload-deploy',
      vdcId: 'demo',
      workload: app('api', 'registry.invalid/demo/api:2.0', 2, { service: { type: 'NodePort', port: 80, targetPort: 8080 } }),
      reason: 'Demo: the shop API, exposed on a node port',
    }),
    t('demo-quota-pending', 'tenant', 'pending_approval', {
      type: 'quota-change',
      vdcId: 'demo',
      quota: { cpu: 10, memoryGi: 20, pods: 48 },
      reason: 'Demo: one more core',
    }),
  ];
  const other: DemoTicket[] = [
    t('other-quota-up', 'other', 'completed', {
      type: 'quota-change',
      vdcId: 'other',
      quota: { cpu: 3, memoryGi: 6, pods: 12 },
      reason: 'Demo: the other team grows',
    }),
    t('other-deploy', 'other', 'completed', {
      type: 'workload-deploy',
      vdcId: 'other',
      workload: app('reports', 'registry.invalid/other/reports:1.0', 1),
      reason: 'Demo: reporting service',
    }),
    t('other-deploy-v2', 'other', 'completed', {
      type: 'workload-deploy',
      vdcId: 'other',
      workload: app('reports', 'registry.invalid/other/reports:1.1', 1),
      reason: 'Demo: reporting service 1.1',
    }),
    t('other-rollback', 'other', 'completed', {
      type: 'workload-rollback',
      vdcId: 'other',
      name: 'reports',
      reason: 'Demo: 1.1 broke the PDF export, back to 1.0',
    }),
  ];
  const edge: DemoTicket[] = [
    t('edge-quota-up', 'tenant', 'completed', {
      type: 'quota-change',
      vdcId: 'edge-lab',
      quota: { cpu: 6, memoryGi: 12, pods: 30 },
      reason: 'Demo: more sensors at the edge',
    }),
    t('edge-deploy', 'tenant', 'completed', {
      type: 'workload-deploy',
      vdcId: 'edge-lab',
      workload: app('sensor-gw', 'registry.invalid/edge/sensor-gw:1.2', 2),
      reason: 'Demo: sensor gateway on arm64 nodes',
    }),
    t('edge-space-scratch', 'tenant', 'completed', { type: 'space-create', vdcId: 'edge-lab', name: 'scratch', reason: 'Demo: a space for a quick trial' }),
    t('edge-space-scratch-delete', 'tenant', 'completed', { type: 'space-delete', vdcId: 'edge-lab', name: 'scratch', reason: 'Demo: trial over' }),
    t('edge-node-join', 'vdcadmin', 'pending_approval', {
      type: 'node-join',
      vdcId: 'edge-lab',
      pool: 'edge-1',
      nodeName: 'edge-1-arm64-3',
      arch: 'arm64',
      labels: { site: 'factory-2' },
      tokenTtlMinutes: 60,
      reason: 'Demo: a third gateway box',
    }),
  ];
  const fleet: DemoTicket[] = [
    t('fleet-deploy', 'tenant', 'completed', {
      type: 'workload-deploy',
      vdcId: 'fleet',
      workload: app('fleet-agent', 'registry.invalid/fleet/agent:3.1', 1),
      reason: 'Demo: agent on the primary pool',
    }),
  ];
  return {
    pools: [
      { id: 'local', name: 'Local cluster', kubeconfigEnv: 'EDGEPORT_KUBECONFIG' },
      { id: 'edge-1', name: 'Edge 1 (arm64)', kubeconfigEnv: 'EDGEPORT_EDGE1_KUBECONFIG' },
    ],
    domain: { id: 'demo-domain', name: 'Demo Domain' },
    vdcs: [
      {
        domainId: 'demo-domain',
        id: 'demo',
        name: 'Demo VDC',
        pools: [{ pool: 'local', quota: { cpu: 4, memoryGi: 8, pods: 20 } }],
        members: [
          { user: 'tenant', roles: ['vdc-user'] },
          { user: 'vdcadmin', roles: ['vdc-admin'] },
        ],
      },
      {
        domainId: 'demo-domain',
        id: 'other',
        name: 'Other VDC',
        pools: [{ pool: 'local', quota: { cpu: 2, memoryGi: 4, pods: 10 } }],
        members: [
          { user: 'other', roles: ['vdc-admin'] },
          { user: 'opsadmin', roles: ['vdc-admin'] },
        ],
      },
      {
        domainId: 'demo-domain',
        id: 'edge-lab',
        name: 'Edge Lab',
        pools: [{ pool: 'edge-1', quota: { cpu: 4, memoryGi: 8, pods: 20 } }],
        members: [
          { user: 'tenant', roles: ['vdc-user'] },
          { user: 'vdcadmin', roles: ['vdc-admin'] },
        ],
      },
      {
        domainId: 'demo-domain',
        id: 'fleet',
        name: 'Fleet (both pools)',
        pools: [
          { pool: 'local', quota: { cpu: 2, memoryGi: 4, pods: 10 } },
          { pool: 'edge-1', quota: { cpu: 2, memoryGi: 4, pods: 10 } },
        ],
        members: [
          { user: 'tenant', roles: ['vdc-user'] },
          { user: 'vdcadmin', roles: ['vdc-admin'] },
        ],
      },
    ],
    bindings: [{ user: 'finance', role: 'finance', scope: { type: 'platform' } }],
    priceBook: {
      currency: 'CNY',
      note: 'Demo price book: the local cluster at list price, edge-1 (arm64) cheaper per core',
      prices: [
        { resource: 'cpu', pool: 'local', arch: '*', unitPrice: '0.12' },
        { resource: 'memory', pool: 'local', arch: '*', unitPrice: '0.015' },
        { resource: 'pods', pool: 'local', arch: '*', unitPrice: '0.001' },
        { resource: 'cpu', pool: 'edge-1', arch: '*', unitPrice: '0.08' },
        { resource: 'memory', pool: 'edge-1', arch: '*', unitPrice: '0.012' },
        { resource: 'pods', pool: 'edge-1', arch: '*', unitPrice: '0.001' },
        { resource: 'storage', pool: '*', arch: '*', unitPrice: '0.5' },
        { resource: 'edgeNode', pool: '*', arch: '*', unitPrice: '0.3' },
        { resource: 'imageStorage', pool: '*', arch: '*', unitPrice: '0.2' },
      ],
    },
    ticketGroups: [demo, other, edge, fleet],
  };
}
