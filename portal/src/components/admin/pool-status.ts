import type { NodeStatus, PoolStatus } from '@common/pools';

type TagType = 'success' | 'warning' | 'danger' | 'info';

export const POOL_STATUS_TAG: Record<PoolStatus, TagType> = { checking: 'info', ready: 'success', unreachable: 'danger', refused: 'warning' };
export const NODE_STATUS_TAG: Record<NodeStatus, TagType> = { Ready: 'success', NotReady: 'danger', Unknown: 'warning' };
