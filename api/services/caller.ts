import type { Actor, RoleBinding } from '../../common/roles.ts';
import type { Grant } from '../authz.ts';

/** The signed-in caller of one request, with bindings resolved to grants (fresh from the store). */
export interface Caller extends Actor {
  bindings: RoleBinding[];
  grants: Grant[];
  /** Set when the request authenticated with an API token; `grants` are then cut down to the token's permissions. */
  tokenId?: string;
}
