import type { Quota } from '@common/tickets';
import type { VdcView } from '@common/tenancy';
import { http } from './http.ts';

/** A VDC the caller may see; `quota` is the current ResourceQuota (absent resource = not set). */
export interface Vdc {
  id: string;
  name: string;
  domainId: string;
  namespace: string;
  quota: Quota;
  /** The resource pools it lives on, primary first. */
  pools?: string[];
}

/** Quiet: the form shows the failure beside the VDC field. */
export function listVdcs(): Promise<{ items: Vdc[] }> {
  return http.get('/api/vdcs', { quiet: true });
}

/** One VDC with its application spaces (`GET /api/vdcs/:id`). Quiet: callers show their own state. */
export function getVdc(id: string): Promise<VdcView> {
  return http.get(`/api/vdcs/${encodeURIComponent(id)}`, { quiet: true });
}
