import { APPLICATION_SPACE_WORKFLOW, type ApplicationSpaceInput } from '../../../common/space-workflow.ts';
import { SPACE_DELETE } from '../../../common/ticket-types/space-delete.ts';
import { spaceNamespace } from '../../../common/tickets.ts';
import { decideSpaceDelete } from '../../../policies/space.ts';
import { baseInput, type TicketTypeDef } from './kit.ts';

export const spaceDeleteDef: TicketTypeDef<'space-delete'> = {
  spec: SPACE_DELETE,
  decide: ({ payload, vdc, requesterRoles }) => decideSpaceDelete({ name: payload.name, spaces: vdc.spaces, requesterRoles }),
  workflowType: APPLICATION_SPACE_WORKFLOW,
  workflowInput: (t): ApplicationSpaceInput => ({
    ...baseInput(t),
    action: 'delete',
    space: { name: t.payload.name, namespace: spaceNamespace(t.vdc.id, t.payload.name), labels: {} },
  }),
};
