import type { AuditEntry } from '@common/audit';
import type { ApiTokenView, CreateApiToken, CreatedApiToken, IpLists, IpListsView } from '@common/identity';
import type { PermissionNode } from '@common/permissions';
import type { NodeView, PoolOverview, PoolView, RegisterPool } from '@common/pools';
import type {
  CreateDomain,
  CreateRole,
  CreateVdc,
  DomainDetailView,
  DomainView,
  MemberBindingView,
  MemberView,
  PatchRole,
  PoolVdcView,
  RoleView,
  UserSummary,
  VdcPoolView,
  VdcView,
} from '@common/tenancy';
import { request } from './http.ts';

/**
 * The admin API (`api/routes/{tenancy,access,pools,audit,api-tokens,ip-lists}.ts`). Reads are quiet (views
 * render their own error state); writes toast unless the caller shows the failure itself (field errors
 * never toast, 409 reasons are shown in place by the views).
 */

const enc = encodeURIComponent;
const QUIET = { quiet: true } as const;
/** Writes whose 409 (the reason an object cannot be changed) the view shows next to the object. */
const SHOWS_409 = { quiet: [409] } as const;

export interface AuditProblem {
  seq: number;
  problem: 'edited' | 'missing' | 'reordered' | 'broken-link';
  detail: string;
}
export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  headSeq: number;
  problems: AuditProblem[];
}
export interface AuditQuery {
  action?: string;
  actorSub?: string;
  afterSeq?: number;
  limit?: number;
}

export const adminApi = {
  permissionTree: () => request<{ tree: PermissionNode[] }>('/api/permission-tree', QUIET),

  listDomains: () => request<{ items: DomainView[] }>('/api/domains', QUIET),
  getDomain: (id: string) => request<DomainDetailView>(`/api/domains/${enc(id)}`, QUIET),
  createDomain: (body: CreateDomain) => request<DomainView>('/api/domains', { method: 'POST', body }),
  deleteDomain: (id: string) => request<void>(`/api/domains/${enc(id)}`, { method: 'DELETE', ...SHOWS_409 }),
  createVdc: (domainId: string, body: CreateVdc) => request<VdcView>(`/api/domains/${enc(domainId)}/vdcs`, { method: 'POST', body }),
  getVdc: (id: string) => request<VdcView>(`/api/vdcs/${enc(id)}`, QUIET),
  deleteVdc: (id: string) => request<void>(`/api/vdcs/${enc(id)}`, { method: 'DELETE', ...SHOWS_409 }),
  /** Each pool of the VDC with its quota and usage there. */
  vdcPools: (id: string) => request<{ items: VdcPoolView[] }>(`/api/vdcs/${enc(id)}/pools`, QUIET),
  /** Starts the VDC's provisioning again after it failed. */
  provisionVdc: (id: string) => request<VdcView>(`/api/vdcs/${enc(id)}/provision`, { method: 'POST', body: {} }),
  /** The VDCs on a pool with their quota and usage there. */
  poolVdcs: (id: string) => request<{ items: PoolVdcView[] }>(`/api/pools/${enc(id)}/vdcs`, QUIET),
  listMembers: (vdcId: string) => request<{ items: MemberView[] }>(`/api/vdcs/${enc(vdcId)}/members`, QUIET),
  putMember: (vdcId: string, sub: string, roles: string[]) =>
    request<MemberBindingView>(`/api/vdcs/${enc(vdcId)}/members/${enc(sub)}`, { method: 'PUT', body: { roles } }),
  removeMember: (vdcId: string, sub: string) => request<void>(`/api/vdcs/${enc(vdcId)}/members/${enc(sub)}`, { method: 'DELETE' }),
  /** By username or email; an email nobody signed in with comes back as a pending member. Field errors are shown by the form. */
  addMember: (vdcId: string, user: string, roles: string[]) =>
    request<MemberBindingView>(`/api/vdcs/${enc(vdcId)}/members`, { method: 'POST', body: { user, roles }, quiet: [400, 403, 422] }),
  withdrawInvite: (vdcId: string, email: string) => request<void>(`/api/vdcs/${enc(vdcId)}/pending-members/${enc(email)}`, { method: 'DELETE' }),
  /** Users who signed in, for the "add member" picker of one VDC. */
  searchUsers: (q: string, vdcId?: string) => request<{ items: UserSummary[] }>('/api/users/search', { ...QUIET, query: { q, vdc: vdcId } }),

  listRoles: () => request<{ items: RoleView[] }>('/api/roles', QUIET),
  createRole: (body: CreateRole) => request<RoleView>('/api/roles', { method: 'POST', body }),
  updateRole: (id: string, body: PatchRole) => request<RoleView>(`/api/roles/${enc(id)}`, { method: 'PATCH', body }),
  deleteRole: (id: string) => request<void>(`/api/roles/${enc(id)}`, { method: 'DELETE', ...SHOWS_409 }),

  listPools: () => request<{ items: PoolView[] }>('/api/pools', QUIET),
  registerPool: (body: RegisterPool) => request<PoolView>('/api/pools', { method: 'POST', body }),
  poolOverview: (id: string) => request<PoolOverview>(`/api/pools/${enc(id)}`, QUIET),
  poolNodes: (id: string) => request<{ items: NodeView[] }>(`/api/pools/${enc(id)}/nodes`, QUIET),
  cordon: (id: string, node: string, on: boolean) =>
    request<NodeView>(`/api/pools/${enc(id)}/nodes/${enc(node)}/${on ? 'cordon' : 'uncordon'}`, { method: 'POST' }),

  listAudit: (q: AuditQuery) =>
    request<{ items: AuditEntry[]; nextAfterSeq?: number }>('/api/audit', {
      ...QUIET,
      query: { action: q.action, actorSub: q.actorSub, afterSeq: q.afterSeq?.toString(), limit: q.limit?.toString() },
    }),
  auditExportUrl: (format: 'jsonl' | 'csv') => `/api/audit/export?format=${format}`,
  verifyAudit: () => request<AuditVerifyResult>('/api/audit/verify', { method: 'POST' }),

  listTokens: () => request<{ items: ApiTokenView[] }>('/api/tokens', QUIET),
  createToken: (body: CreateApiToken) => request<CreatedApiToken>('/api/tokens', { method: 'POST', body }),
  revokeToken: (id: string) => request<void>(`/api/tokens/${enc(id)}`, { method: 'DELETE' }),

  getIpLists: () => request<IpListsView>('/api/ip-lists', QUIET),
  putIpLists: (body: IpLists) => request<IpListsView>('/api/ip-lists', { method: 'PUT', body, ...SHOWS_409 }),
};
