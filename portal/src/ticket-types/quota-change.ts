import NewQuotaChange from '../views/tickets/requests/NewQuotaChange.vue';
import QuotaDiffPreview from './previews/QuotaDiffPreview.vue';
import type { TicketTypeEntry } from './types.ts';

/** A permanent change of a VDC's quota. */
export const quotaChange: TicketTypeEntry<'quota-change'> = {
  type: 'quota-change',
  form: NewQuotaChange,
  summary: (p) => ({ kind: 'quota', quota: p.quota }),
  preview: QuotaDiffPreview,
};
