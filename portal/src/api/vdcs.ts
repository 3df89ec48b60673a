import type { Quota } from '@common/tickets';
import { http } from './http.ts';

/** A VDC the caller may see; `quota` is the current ResourceQuota (absent resource = not set). */
export interface Vdc {
  id: string;
  name: string;
  domainId: string;
  namespace: string;
  quota: Quota;
}

/** Quiet: the form shows the failure beside the VDC field. */
export function listVdcs(): Promise<{ items: Vdc[] }> {
  return http.get('/api/vdcs', { quiet: true });
}
