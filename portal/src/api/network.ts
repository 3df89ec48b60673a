import type {
  ChangeMembers,
  CreateSecurityGroup,
  RenderedPolicyView,
  SecurityGroup,
  SpaceNetworkDefault,
  SpaceNetworkView,
  UpdateSecurityGroup,
} from '@common/network';
import { http, request } from './http.ts';

const groupsOf = (vdcId: string): string => `/api/vdcs/${encodeURIComponent(vdcId)}/security-groups`;

/** Security groups of a VDC. Quiet: the view shows its own error state. */
export function listSecurityGroups(vdcId: string): Promise<{ items: SecurityGroup[] }> {
  return http.get(groupsOf(vdcId), { quiet: true });
}

/** Field errors (400) are shown beside the form, not toasted. */
export function createSecurityGroup(vdcId: string, body: CreateSecurityGroup): Promise<SecurityGroup> {
  return http.post(groupsOf(vdcId), body, { quiet: [400, 409, 422] });
}

export function updateSecurityGroup(vdcId: string, id: string, body: UpdateSecurityGroup): Promise<SecurityGroup> {
  return request(`${groupsOf(vdcId)}/${id}`, { method: 'PUT', body, quiet: [400, 409, 422] });
}

export function deleteSecurityGroup(vdcId: string, id: string): Promise<void> {
  return request(`${groupsOf(vdcId)}/${id}`, { method: 'DELETE', quiet: [409, 422] });
}

export function changeMembers(vdcId: string, id: string, body: Partial<ChangeMembers>): Promise<SecurityGroup> {
  return http.post(`${groupsOf(vdcId)}/${id}/members`, body, { quiet: [400, 409, 422] });
}

/** The NetworkPolicies rendered for the group, read back from the cluster. Quiet: shown in the panel. */
export function groupPolicies(vdcId: string, id: string): Promise<{ items: RenderedPolicyView[] }> {
  return http.get(`${groupsOf(vdcId)}/${id}/policies`, { quiet: true });
}

export function listSpaceDefaults(vdcId: string): Promise<{ items: SpaceNetworkView[] }> {
  return http.get(`/api/vdcs/${encodeURIComponent(vdcId)}/network-defaults`, { quiet: true });
}

export function setSpaceDefault(vdcId: string, space: string, policy: SpaceNetworkDefault): Promise<SpaceNetworkView> {
  return request(`/api/vdcs/${encodeURIComponent(vdcId)}/network-defaults/${encodeURIComponent(space)}`, {
    method: 'PUT',
    body: { policy },
    quiet: [400, 422],
  });
}
