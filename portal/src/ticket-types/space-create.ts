import NewSpaceCreate from '../views/tickets/requests/NewSpaceCreate.vue';
import LabelsPreview from './previews/LabelsPreview.vue';
import type { TicketTypeEntry } from './types.ts';

/** A new application space (namespace) in a VDC. */
export const spaceCreate: TicketTypeEntry<'space-create'> = {
  type: 'space-create',
  form: NewSpaceCreate,
  summary: (p) => ({ kind: 'text', text: `+ ${p.name}` }),
  preview: LabelsPreview,
};
