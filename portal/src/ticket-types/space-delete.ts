import NewSpaceDelete from '../views/tickets/requests/NewSpaceDelete.vue';
import LabelsPreview from './previews/LabelsPreview.vue';
import type { TicketTypeEntry } from './types.ts';

/** Removing an application space of a VDC. */
export const spaceDelete: TicketTypeEntry<'space-delete'> = {
  type: 'space-delete',
  form: NewSpaceDelete,
  summary: (p) => ({ kind: 'text', text: `− ${p.name}` }),
  preview: LabelsPreview,
};
