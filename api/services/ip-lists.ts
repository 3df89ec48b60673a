import type { RequestHandler } from 'express';
import type { AuditLog } from '../../common/audit.ts';
import type { IpLists, IpListsView } from '../../common/identity.ts';
import type { IpListsRecord, IpListStore } from '../../store/ip-lists.ts';
import { ConflictError, ForbiddenError, InputError } from '../errors.ts';
import { formatCidr, IpPolicy, parseCidr } from '../ip-match.ts';
import type { Caller } from './caller.ts';

export interface IpListServiceDeps {
  store: IpListStore;
  audit: AuditLog;
  /** How long this process trusts its copy of the lists; another API replica sees a change within this time. */
  cacheMs: number;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  now?: () => number;
}

/** Trims, validates and canonicalises both lists (deduplicated); InputError names each bad entry, e.g. `allow[2]`. */
export function normalizeIpLists(body: IpLists): IpLists {
  const errors: { field: string; message: string }[] = [];
  const clean = (key: 'allow' | 'deny'): string[] => {
    const out: string[] = [];
    body[key].forEach((text, i) => {
      const c = parseCidr(text);
      if (!c) errors.push({ field: `${key}[${i}]`, message: `not an IPv4/IPv6 address or CIDR: ${JSON.stringify(text)}` });
      else out.push(formatCidr(c));
    });
    return [...new Set(out)];
  };
  const lists = { allow: clean('allow'), deny: clean('deny') };
  if (errors.length > 0) throw new InputError(`invalid request: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
  return lists;
}

/** The policy of stored lists; entries that no longer parse (edited by hand in the database) are skipped and logged. */
function policyOf(lists: IpListsRecord | null, log: IpListServiceDeps['log']): IpPolicy {
  const valid = (key: 'allow' | 'deny'): string[] =>
    (lists?.[key] ?? []).filter((e) => {
      if (parseCidr(e)) return true;
      log.error({ list: key, entry: e }, 'ignoring an invalid stored IP list entry');
      return false;
    });
  return new IpPolicy({ allow: valid('allow'), deny: valid('deny') });
}

/**
 * The platform's IP allow and deny lists (stored in Mongo, cached per process for `cacheMs`). Deny wins;
 * a non-empty allow list admits only its members.
 */
export function ipListService(deps: IpListServiceDeps) {
  const now = deps.now ?? Date.now;
  let cached: { policy: IpPolicy; at: number } | null = null;
  let loading: Promise<IpPolicy> | null = null;

  const load = async (): Promise<IpPolicy> => {
    try {
      const policy = policyOf(await deps.store.get(), deps.log);
      cached = { policy, at: now() };
      return policy;
    } catch (err) {
      // Keep the last known lists while the database is unreachable; with none, fail closed.
      if (!cached) throw err;
      deps.log.warn({ err }, 'IP lists could not be reloaded; using the cached copy');
      cached = { ...cached, at: now() };
      return cached.policy;
    }
  };

  const current = (): Promise<IpPolicy> => {
    if (cached && now() - cached.at < deps.cacheMs) return Promise.resolve(cached.policy);
    loading ??= load().finally(() => {
      loading = null;
    });
    return loading;
  };

  const view = (lists: IpListsRecord | null, clientAddress: string | undefined): IpListsView => ({
    allow: lists?.allow ?? [],
    deny: lists?.deny ?? [],
    updatedAt: lists?.updatedAt ? lists.updatedAt.toISOString() : null,
    updatedBy: lists?.updatedBy ?? null,
    clientAddress: clientAddress ?? null,
  });

  return {
    /** Whether a request from `address` may proceed (cached). An unparseable address passes only when both lists are empty. */
    async admits(address: string | undefined): Promise<boolean> {
      return (await current()).admits(address);
    },

    async get(clientAddress: string | undefined): Promise<IpListsView> {
      return view(await deps.store.get(), clientAddress);
    },

    /**
     * Replaces both lists.
     * @throws InputError naming each invalid entry (`allow[2]`).
     * @throws ConflictError when the new lists would refuse the caller's own current address (lock-out guard).
     */
    async update(caller: Caller, body: IpLists, clientAddress: string | undefined): Promise<IpListsView> {
      const lists = normalizeIpLists(body);
      const policy = new IpPolicy(lists);
      if (!policy.admits(clientAddress)) {
        throw new ConflictError(`these lists would block your own address ${clientAddress ?? '(unknown)'}: allow it (and do not deny it) before saving`);
      }
      const record: IpListsRecord = { ...lists, updatedAt: new Date(now()), updatedBy: { sub: caller.sub, name: caller.name } };
      await deps.store.set(record);
      cached = { policy, at: now() };
      await deps.audit.append({
        actor: { sub: caller.sub, name: caller.name },
        action: 'iplist.update',
        target: 'iplist:platform',
        outcome: 'success',
        details: { allow: lists.allow, deny: lists.deny },
        ...(clientAddress ? { ip: clientAddress } : {}),
      });
      return view(record, clientAddress);
    },
  };
}
export type IpListService = ReturnType<typeof ipListService>;

/**
 * Refuses (403 problem) every request whose client address (`req.ip`, after trusted proxies) the lists
 * refuse. Mount before the session and authentication so refused clients reach nothing else.
 */
export function ipFilter(lists: Pick<IpListService, 'admits'>): RequestHandler {
  return async (req, _res, next) => {
    if (await lists.admits(req.ip)) return next();
    throw new ForbiddenError('requests from this network address are not allowed');
  };
}
