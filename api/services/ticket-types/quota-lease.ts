import { leaseQuery, QUOTA_LEASE_WORKFLOW, type QuotaLeaseInput } from '../../../common/quota-lease-workflow.ts';
import { QUOTA_LEASE } from '../../../common/ticket-types/quota-lease.ts';
import { decideQuotaLease } from '../../../policies/quota-lease.ts';
import { baseInput, type TicketTypeDef } from './kit.ts';

export const quotaLeaseDef: TicketTypeDef<'quota-lease'> = {
  spec: QUOTA_LEASE,
  decide: ({ payload, vdc }) => decideQuotaLease({ current: vdc.quota, leased: payload.quota, lease: payload, now: Date.now() }),
  workflowType: QUOTA_LEASE_WORKFLOW,
  workflowInput: (t): QuotaLeaseInput => ({
    ...baseInput(t),
    leased: t.payload.quota,
    lease: {
      ...(t.payload.startsAt !== undefined ? { startsAt: t.payload.startsAt } : {}),
      ...(t.payload.endsAt !== undefined ? { endsAt: t.payload.endsAt } : {}),
      ...(t.payload.durationHours !== undefined ? { durationHours: t.payload.durationHours } : {}),
    },
  }),
  // An approved lease waits for its start; the workflow honours a cancel until then.
  awaitingStart: async (workflow) => (await workflow.query(leaseQuery)).phase === 'scheduled',
};
