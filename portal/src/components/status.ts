import type { TicketStatus } from '@common/tickets';

type TagType = 'primary' | 'success' | 'info' | 'warning' | 'danger';

/** Element Plus tag colour per ticket status. */
export const STATUS_TAG: Record<TicketStatus, TagType> = {
  submitted: 'info',
  pending_approval: 'warning',
  approved: 'primary',
  executing: 'primary',
  completed: 'success',
  rejected: 'danger',
  failed: 'danger',
  cancelled: 'info',
  compensated: 'warning',
};
