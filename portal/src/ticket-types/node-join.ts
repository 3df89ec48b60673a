import NewNodeJoin from '../views/tickets/requests/NewNodeJoin.vue';
import LabelsPreview from './previews/LabelsPreview.vue';
import NodeJoinTicketPanel from './previews/NodeJoinTicketPanel.vue';
import type { TicketTypeEntry } from './types.ts';

/** An edge node joining a resource pool (its one-time join command is on the ticket's panel). */
export const nodeJoin: TicketTypeEntry<'node-join'> = {
  type: 'node-join',
  form: NewNodeJoin,
  summary: (p) => ({ kind: 'text', text: `${p.nodeName} → ${p.pool}` }),
  preview: LabelsPreview,
  panel: NodeJoinTicketPanel,
};
