import type { DelegationView, PutDelegation } from '@common/delegations';
import type { UserView } from '@common/tenancy';
import { request } from './http.ts';

/** An approver's delegations (`api/routes/delegations.ts`). */
export const delegationsApi = {
  list: () => request<{ items: DelegationView[] }>('/api/delegations', { quiet: true }),
  /** Field errors are shown by the form, so they never toast. */
  put: (body: PutDelegation) => request<DelegationView>('/api/delegations', { method: 'PUT', body }),
  remove: (id: string) => request<void>(`/api/delegations/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  /** Suggestions for the delegate; only admins may list users, everyone else types the user id. */
  users: () => request<{ items: UserView[] }>('/api/users', { quiet: true }),
};
