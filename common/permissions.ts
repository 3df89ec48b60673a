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
    key: 'finance',
    label: { en: 'Metering and billing', 'zh-CN': '计量计费' },
    children: [leaf('report:read', 'vdc', 'View costs and reports', '查看费用和报表')],
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

/** Built-in roles: each role type's role with all its permissions. */
export const BUILTIN_ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  [ROLES.opsAdmin]: ALL_PERMISSIONS,
  [ROLES.maintenanceAdmin]: ['pool:read', 'pool:write', 'node:maintain', 'domain:read', 'vdc:read', 'ticket:read'],
  [ROLES.domainAdmin]: ['domain:read', 'vdc:create', 'vdc:read', 'vdc:members', 'ticket:read', 'ticket:create', 'ticket:decide', 'report:read'],
  [ROLES.vdcAdmin]: ['vdc:read', 'vdc:members', 'ticket:read', 'ticket:create', 'ticket:decide', 'report:read'],
  [ROLES.vdcUser]: ['vdc:read', 'ticket:read', 'ticket:create'],
  [ROLES.finance]: ['domain:read', 'vdc:read', 'report:read'],
};
