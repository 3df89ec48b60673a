import { NODE_JOIN_WORKFLOW, type NodeJoinInput } from '../../../common/node-join-workflow.ts';
import { NODE_JOIN } from '../../../common/ticket-types/node-join.ts';
import { decideNodeJoin } from '../../../policies/node-join.ts';
import { baseInput, type TicketTypeDef } from './kit.ts';

export const nodeJoinDef: TicketTypeDef<'node-join'> = {
  spec: NODE_JOIN,
  decide: ({ payload, vdc, requesterRoles }) =>
    decideNodeJoin({
      pool: payload.pool,
      nodeName: payload.nodeName,
      taints: payload.taints ?? [],
      tokenTtlMinutes: payload.tokenTtlMinutes,
      ...(vdc.pools ? { vdcPools: vdc.pools } : {}),
      requesterRoles,
    }),
  workflowType: NODE_JOIN_WORKFLOW,
  workflowInput: (t): NodeJoinInput => ({
    ...baseInput(t),
    node: {
      pool: t.payload.pool,
      nodeName: t.payload.nodeName,
      ...(t.payload.arch ? { arch: t.payload.arch } : {}),
      labels: t.payload.labels ?? {},
      taints: t.payload.taints ?? [],
      tokenTtlMinutes: t.payload.tokenTtlMinutes,
    },
  }),
};
