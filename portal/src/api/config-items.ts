import type { ConfigItemView, ConfigKind, ConfigMapBody, SecretBody } from '@common/config-items';
import { http, request } from './http.ts';

const PATH: Record<ConfigKind, string> = { ConfigMap: 'configmaps', Secret: 'secrets' };
const base = (vdcId: string, kind: ConfigKind): string => `/api/vdcs/${encodeURIComponent(vdcId)}/${PATH[kind]}`;
const spaceQuery = (space: string | undefined): string => (space ? `?space=${encodeURIComponent(space)}` : '');

/** ConfigMaps or Secrets of one namespace of the VDC (a space's, or the default one). Quiet: the view shows its error state. */
export function listConfigItems(vdcId: string, kind: ConfigKind, space?: string): Promise<{ items: ConfigItemView[] }> {
  return http.get(`${base(vdcId, kind)}${spaceQuery(space)}`, { quiet: true });
}

/** Field errors (400) and cluster refusals (409, 422) are shown in the dialog, not toasted. */
export function createConfigItem(vdcId: string, kind: ConfigKind, body: ConfigMapBody | SecretBody): Promise<ConfigItemView> {
  return http.post(base(vdcId, kind), body, { quiet: [400, 409, 422] });
}

/** Replaces the whole content (a Secret's values are write-only: every edit sends them all again). */
export function replaceConfigItem(vdcId: string, kind: ConfigKind, name: string, body: ConfigMapBody | SecretBody, space?: string): Promise<ConfigItemView> {
  return request(`${base(vdcId, kind)}/${encodeURIComponent(name)}${spaceQuery(space)}`, { method: 'PUT', body, quiet: [400, 409, 422] });
}

/** 409 (a workload uses it) is shown by the view. */
export function deleteConfigItem(vdcId: string, kind: ConfigKind, name: string, space?: string): Promise<void> {
  return request(`${base(vdcId, kind)}/${encodeURIComponent(name)}${spaceQuery(space)}`, { method: 'DELETE', quiet: [409] });
}
