import type { ConnectHarborRegistry, HarborBrowseResult, HarborRegistryView } from '@common/harbor-registries';
import { request } from './http.ts';

/** Third-party Harbor registries (`api/routes/harbor-registries.ts`). Reads are quiet; the connect form shows field errors itself. */
const enc = encodeURIComponent;
const QUIET = { quiet: true } as const;

export const harborRegistriesApi = {
  list: () => request<{ items: HarborRegistryView[] }>('/api/harbor-registries', QUIET),
  connect: (body: ConnectHarborRegistry) => request<HarborRegistryView>('/api/harbor-registries', { method: 'POST', body, quiet: [400, 409] }),
  browse: (id: string, at: { project?: string; repository?: string } = {}) =>
    request<HarborBrowseResult>(`/api/harbor-registries/${enc(id)}/browse`, {
      ...QUIET,
      query: at.repository ? { repository: at.repository } : { project: at.project },
    }),
  remove: (id: string) => request<void>(`/api/harbor-registries/${enc(id)}`, { method: 'DELETE' }),
};
