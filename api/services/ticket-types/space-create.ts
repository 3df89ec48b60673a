import { APPLICATION_SPACE_WORKFLOW, type ApplicationSpaceInput } from '../../../common/space-workflow.ts';
import { SPACE_CREATE } from '../../../common/ticket-types/space-create.ts';
import { spaceNamespace } from '../../../common/tickets.ts';
import { decideSpaceCreate } from '../../../policies/space.ts';
import { baseInput, type TicketTypeDef } from './kit.ts';

export const spaceCreateDef: TicketTypeDef<'space-create'> = {
  spec: SPACE_CREATE,
  decide: ({ payload, vdc, requesterRoles }) => decideSpaceCreate({ name: payload.name, spaces: vdc.spaces, requesterRoles }),
  workflowType: APPLICATION_SPACE_WORKFLOW,
  workflowInput: (t): ApplicationSpaceInput => ({
    ...baseInput(t),
    action: 'create',
    space: { name: t.payload.name, namespace: spaceNamespace(t.vdc.id, t.payload.name), labels: t.payload.labels ?? {} },
  }),
};
