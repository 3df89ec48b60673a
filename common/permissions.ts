import { ROLES, type Role } from './roles.ts';

/**
 * The one permission tree. The portal shows it as a checkable el-tree; custom roles pick a subset of its
 * leaves. Each leaf says at which scope it makes sense: `platform` leaves are only granted by
 * platform-scoped bindings; `domain` leaves by platform or domain bindings; `vdc` leaves by any binding
 * whose scope covers the VDC.
 */
export interface PermissionNode {
  key: string;
  label: { en: string; 'zh-CN': string };
  scope?: 'platform' | 'domain' | 'vdc';
  children?: readonly PermissionNode[];
}

const leaf = (key: string, scope: 'platform' | 'domain' | 'vdc', en: string, zh: string): PermissionNode => ({ key, scope, label: { en, 'zh-CN': zh } });

export const PERMISSION_TREE = [
  {
    key: 'platform',
    label: { en: 'Platform', 'zh-CN': '平台' },
    children: [
      leaf('domain:create', 'platform', 'Create and delete domains', '创建和删除域'),
      leaf('pool:read', 'platform', 'View resource pools and nodes', '查看资源池和节点'),
      leaf('pool:write', 'platform', 'Register and remove resource pools', '注册和移除资源池'),
      leaf('node:maintain', 'platform', 'Node maintenance (cordon, drain)', '节点维护（停止调度、驱逐）'),
      leaf('role:write', 'platform', 'Define custom roles', '定义自定义角色'),
      leaf('iplist:write', 'platform', 'Edit IP allow and deny lists', '编辑 IP 黑白名单'),
      leaf('audit:read', 'platform', 'Read and verify the audit log', '查看和校验审计日志'),
      leaf('pricebook:write', 'platform', 'Publish price book versions', '发布价格表版本'),
      leaf('registry:manage', 'platform', 'Connect, browse and remove third-party Harbor registries', '连接、浏览和移除第三方 Harbor 镜像仓库'),
    ],
  },
  {
    key: 'tenancy',
    label: { en: 'Domains and VDCs', 'zh-CN': '域和虚拟数据中心' },
    children: [
      leaf('domain:read', 'domain', 'View the domain', '查看域'),
      leaf('vdc:create', 'domain', 'Create and delete VDCs', '创建和删除虚拟数据中心'),
      leaf('vdc:read', 'vdc', 'View the VDC', '查看虚拟数据中心'),
      leaf('vdc:members', 'vdc', 'Manage members and role bindings', '管理成员和角色绑定'),
    ],
  },
  {
    key: 'tickets',
    label: { en: 'Requests', 'zh-CN': '工单' },
    children: [
      leaf('ticket:read', 'vdc', 'View requests', '查看工单'),
      leaf('ticket:create', 'vdc', 'Submit requests', '提交工单'),
      leaf('ticket:decide', 'vdc', 'Approve or reject requests', '审批工单'),
    ],
  },
  {
    key: 'workloads',
    label: { en: 'Workloads and configuration', 'zh-CN': '工作负载和配置' },
    children: [
      leaf('workload:read', 'vdc', 'View workloads, pods, events and logs', '查看工作负载、容器组、事件和日志'),
      leaf('workload:operate', 'vdc', 'Scale, stop, start, restart and delete workloads', '伸缩、停止、启动、重启和删除工作负载'),
      leaf('volume:write', 'vdc', 'Create, expand and delete volumes', '创建、扩容和删除存储卷'),
      leaf('config:read', 'vdc', 'View ConfigMaps and Secrets (never Secret values)', '查看配置项和保密字典（不含保密值）'),
      leaf('config:write', 'vdc', 'Create, edit and delete ConfigMaps and Secrets', '创建、编辑和删除配置项和保密字典'),
      leaf('network:write', 'vdc', 'Edit security groups and network policies', '编辑安全组和网络策略'),
    ],
  },
  {
    key: 'finance',
    label: { en: 'Metering and billing', 'zh-CN': '计量计费' },
    children: [
      leaf('report:read', 'vdc', 'View costs and reports', '查看费用和报表'),
      leaf('ledger:void', 'platform', 'Void ledger lines (kept, billed by no report)', '作废计量流水（保留，不计入任何报表）'),
    ],
  },
] as const satisfies readonly PermissionNode[];

type Leaves<T> = T extends { children: readonly (infer C)[] } ? Leaves<C> : T extends { key: infer K } ? K : never;
export type Permission = Leaves<(typeof PERMISSION_TREE)[number]>;

function collect(nodes: readonly PermissionNode[]): PermissionNode[] {
  return nodes.flatMap((n) => (n.children ? collect(n.children) : [n]));
}
export const PERMISSION_LEAVES: readonly PermissionNode[] = collect(PERMISSION_TREE);
export const ALL_PERMISSIONS = PERMISSION_LEAVES.map((n) => n.key) as Permission[];
export const PERMISSION_SCOPE = Object.fromEntries(PERMISSION_LEAVES.map((n) => [n.key, n.scope])) as Record<Permission, 'platform' | 'domain' | 'vdc'>;

export const isPermission = (s: string): s is Permission => (ALL_PERMISSIONS as string[]).includes(s);

/** A VDC's members run their workloads; policy decides which operations still need a ticket. */
const WORKLOAD_USER = ['workload:read', 'workload:operate', 'volume:write', 'config:read', 'config:write'] as const satisfies readonly Permission[];
/** Security groups open or close traffic for the whole VDC: its admins only. */
const WORKLOAD_ADMIN = [...WORKLOAD_USER, 'network:write'] as const satisfies readonly Permission[];

/** Built-in roles: each role type's role with all its permissions. */
export const BUILTIN_ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  [ROLES.opsAdmin]: ALL_PERMISSIONS,
  [ROLES.maintenanceAdmin]: ['pool:read', 'pool:write', 'node:maintain', 'domain:read', 'vdc:read', 'ticket:read', 'workload:read'],
  [ROLES.domainAdmin]: [
    'domain:read',
    'vdc:create',
    'vdc:read',
    'vdc:members',
    'ticket:read',
    'ticket:create',
    'ticket:decide',
    'report:read',
    ...WORKLOAD_ADMIN,
  ],
  [ROLES.vdcAdmin]: ['vdc:read', 'vdc:members', 'ticket:read', 'ticket:create', 'ticket:decide', 'report:read', ...WORKLOAD_ADMIN],
  [ROLES.vdcUser]: ['vdc:read', 'ticket:read', 'ticket:create', ...WORKLOAD_USER],
  [ROLES.finance]: ['domain:read', 'vdc:read', 'report:read', 'ledger:void'],
};

/** A custom role as stored (`_id` is its id); store/ names it `CustomRoleDoc`. Plain values: mongoose documents never leave store/. */
export interface CustomRole {
  _id: `custom:${string}`;
  name: string;
  baseRole: Role;
  permissions: Permission[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}
