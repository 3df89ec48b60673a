import type { JoinedNodeRecord } from '../../common/node-join-workflow.ts';
import type { LedgerExtractors } from './history.ts';

/** Activity whose completion is the billable `node.joined` fact (node-hours are billed from `joinedAt`). */
export const NODE_JOINED_ACTIVITY = 'recordJoinedNode';
export const NODE_UNITS = { nodes: 'node' } as const;

/** The `node.joined` fact: each completed `recordJoinedNode` activity is one line, subject the node name. */
export const NODE_JOIN_EXTRACTORS: LedgerExtractors = {
  [NODE_JOINED_ACTIVITY]: (result, provenance) => {
    const r = result as JoinedNodeRecord;
    return [
      {
        ...provenance,
        fact: 'node.joined',
        vdcId: r.vdcId,
        domainId: r.domainId,
        pool: r.pool,
        ...(r.arch ? { arch: r.arch } : {}),
        subject: r.nodeName,
        quantities: { nodes: 1 },
        units: { ...NODE_UNITS },
        start: new Date(r.joinedAt),
      },
    ];
  },
};
