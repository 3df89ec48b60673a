import type { QuotaChangeInput } from '../../../common/quota-change-workflow.ts';
import { QUOTA_CHANGE } from '../../../common/ticket-types/quota-change.ts';
import { decideQuotaChange } from '../../../policies/quota-change.ts';
import { baseInput, type TicketTypeDef } from './kit.ts';

export const quotaChangeDef: TicketTypeDef<'quota-change'> = {
  spec: QUOTA_CHANGE,
  // The budget rule prices the VDC's quota after the change; only a VDC with a budget needs the price book.
  loadContext: async (readers, payload, vdc) => (vdc.monthlyBudget ? { projectedCost: await readers.projectedCost(payload.quota) } : {}),
  decide: ({ payload, vdc, projectedCost }) =>
    decideQuotaChange({
      current: vdc.quota,
      requested: payload.quota,
      budget: { ...(vdc.monthlyBudget ? { monthlyBudget: vdc.monthlyBudget } : {}), ...(projectedCost ? { projected: projectedCost } : {}) },
    }),
  workflowType: 'quotaChangeWorkflow',
  workflowInput: (t): QuotaChangeInput => ({ ...baseInput(t), requested: t.payload.quota }),
};
