import type { CreateVolume, VolumeRecord, VolumeView } from '@common/volumes';
import { http, request } from './http.ts';

const volumesOf = (vdcId: string): string => `/api/vdcs/${encodeURIComponent(vdcId)}/volumes`;

/** Volumes of a VDC with live phase and who mounts them. Quiet: the view shows its own error state. */
export function listVolumes(vdcId: string): Promise<{ items: VolumeView[] }> {
  return http.get(volumesOf(vdcId), { quiet: true });
}

/** Field errors and storage-rule refusals are shown in the form, not toasted. */
export function createVolume(vdcId: string, body: CreateVolume): Promise<VolumeRecord> {
  return http.post(volumesOf(vdcId), body, { quiet: [400, 409, 422] });
}

export function expandVolume(vdcId: string, name: string, size: string): Promise<VolumeRecord> {
  return http.post(`${volumesOf(vdcId)}/${encodeURIComponent(name)}/expand`, { size }, { quiet: [400, 409, 422] });
}

export function deleteVolume(vdcId: string, name: string): Promise<void> {
  return request(`${volumesOf(vdcId)}/${encodeURIComponent(name)}`, { method: 'DELETE', quiet: [409, 422] });
}
