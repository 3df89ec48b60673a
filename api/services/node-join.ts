import type { AuditLog } from '../../common/audit.ts';
import { joinState, type JoinStatusView } from '../../common/node-join-workflow.ts';
import type { CredentialCipher } from '../../store/credentials.ts';
import type { Store } from '../../store/index.ts';
import { joinCommandAad } from '../../store/node-joins.ts';
import { allows } from '../authz.ts';
import { ConflictError, ForbiddenError, HttpError, NotFoundError } from '../errors.ts';
import type { Caller } from './caller.ts';

export interface NodeJoinServiceDeps {
  store: Store;
  /** Opens the sealed join command; the same key(s) the worker seals with. */
  cipher: CredentialCipher;
  audit: AuditLog;
}

/** The join command as handed to the requester, once. */
export interface JoinCommandView {
  ticketId: string;
  nodeName: string;
  pool: string;
  tokenId: string;
  expiresAt: string;
  command: string;
}

/** 410: the join command existed but can no longer be had (fetched once already, revoked or expired). */
export class GoneError extends HttpError {
  constructor(message: string) {
    super(410, 'Gone', message);
  }
}

/**
 * The one-time hand-over of a node-join ticket's join command. The command holds the bootstrap token, so
 * it is opened here only, for the requester or someone who may decide tickets on the VDC, exactly once
 * (claimed atomically), and the fetch is written to the audit log without the command.
 */
export function nodeJoinService(deps: NodeJoinServiceDeps) {
  const joins = deps.store.nodeJoins;
  return {
    async fetchJoinCommand(caller: Caller, ticketId: string): Promise<JoinCommandView> {
      const ticket = await deps.store.tickets.get(ticketId);
      if (!ticket) throw new NotFoundError();
      const target = { kind: 'vdc', vdcId: ticket.vdc.id, domainId: ticket.vdc.domainId } as const;
      if (ticket.requester.sub !== caller.sub && !allows(caller.grants, 'ticket:decide', target)) {
        throw new ForbiddenError('only the requester or an approver of the VDC may fetch the join command');
      }
      if (ticket.type !== 'node-join') throw new ConflictError(`ticket ${ticketId} is a ${ticket.type} ticket; only node-join tickets have a join command`);
      const claim = await joins.claimFetch(ticketId, { sub: caller.sub, ...(caller.name ? { name: caller.name } : {}) });
      const audit = (outcome: 'success' | 'failure', details: Record<string, unknown>) =>
        deps.audit.append({ actor: { sub: caller.sub, name: caller.name }, action: 'node-join.command.fetch', target: `ticket:${ticketId}`, outcome, details });
      if (claim.outcome === 'none')
        throw new ConflictError(`ticket ${ticketId} has no join token yet (status ${ticket.status}); fetch it once the ticket is executing`);
      if (claim.outcome !== 'ok') {
        await audit('failure', { reason: claim.outcome });
        throw new GoneError(
          `the join command of ticket ${ticketId} was ${claim.outcome === 'fetched' ? 'already fetched (it is handed out once)' : claim.outcome}`,
        );
      }
      const { record } = claim;
      const { command } = JSON.parse(deps.cipher.open(record.sealed, joinCommandAad(ticketId))) as { command: string };
      await audit('success', { tokenId: record.tokenId, nodeName: record.nodeName, pool: record.pool });
      return { ticketId, nodeName: record.nodeName, pool: record.pool, tokenId: record.tokenId, expiresAt: record.expiresAt.toISOString(), command };
    },

    /**
     * The state of a node-join ticket's token and node for the ticket page (waiting / joined / expired /
     * revoked), who fetched the command and when; never the command. Any reader of the ticket may see it.
     */
    async joinStatus(caller: Caller, ticketId: string, now = new Date()): Promise<JoinStatusView> {
      const ticket = await deps.store.tickets.get(ticketId);
      if (!ticket) throw new NotFoundError();
      if (ticket.type !== 'node-join' || ticket.payload.type !== 'node-join')
        throw new ConflictError(`ticket ${ticketId} is a ${ticket.type} ticket; only node-join tickets have a join status`);
      const { pool, nodeName } = ticket.payload;
      const [token, node] = await Promise.all([joins.getToken(ticketId), joins.getNode(pool, nodeName)]);
      const mine = node?.ticketId === ticketId ? node : null;
      const state = joinState(token, !!mine || ticket.status === 'completed', now);
      const target = { kind: 'vdc', vdcId: ticket.vdc.id, domainId: ticket.vdc.domainId } as const;
      const mayFetch = ticket.requester.sub === caller.sub || allows(caller.grants, 'ticket:decide', target);
      return {
        ticketId,
        pool,
        nodeName,
        state,
        ...(token ? { tokenId: token.tokenId, expiresAt: token.expiresAt.toISOString() } : {}),
        ...(token?.fetchedAt
          ? {
              fetched: { at: token.fetchedAt.toISOString(), by: { sub: token.fetchedBy ?? '', ...(token.fetchedByName ? { name: token.fetchedByName } : {}) } },
            }
          : {}),
        ...(token?.revokedAt ? { revokedAt: token.revokedAt.toISOString() } : {}),
        commandAvailable: state === 'waiting' && !token?.fetchedAt && !!token?.sealed,
        mayFetch,
        ...(mine ? { node: { ...(mine.arch ? { arch: mine.arch } : {}), joinedAt: mine.joinedAt.toISOString() } } : {}),
      };
    },
  };
}
export type NodeJoinService = ReturnType<typeof nodeJoinService>;
