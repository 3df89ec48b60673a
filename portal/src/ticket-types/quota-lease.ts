import NewQuotaLease from '../views/tickets/requests/NewQuotaLease.vue';
import QuotaDiffPreview from './previews/QuotaDiffPreview.vue';
import type { TicketTypeEntry } from './types.ts';

/** A temporary quota for a VDC, from a start until an end or for a number of hours. */
export const quotaLease: TicketTypeEntry<'quota-lease'> = {
  type: 'quota-lease',
  form: NewQuotaLease,
  summary: (p) => ({ kind: 'quota', quota: p.quota }),
  preview: QuotaDiffPreview,
};
