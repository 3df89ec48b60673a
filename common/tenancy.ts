import type { MonthlyBudget } from './budget.ts';
import type { ActiveLease } from './quota-lease-workflow.ts';
import { z } from 'zod';
import { displayText } from './display-text.ts';
import { isPermission, type Permission } from './permissions.ts';
import { ROLES, type Role, type RoleBinding, type Scope } from './roles.ts';
import { poolIdSchema } from './pools.ts';
import { QUOTA_FIELDS, type Quota, type VdcSpace } from './tickets.ts';

/**
 * Contract of the tenancy admin API (domains, VDCs, members and role bindings, custom roles), shared by
 * the api and the portal. Bodies are strict: unknown fields are refused with the field named.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = (max: number) => z.string().min(1).max(max).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits and -)');
const displayName = displayText({ max: 200 });

/** Namespace prefix of a VDC's first application space: `vdc-<id>`, so an id leaves room for it in 63 chars. */
export const VDC_NAMESPACE_PREFIX = 'vdc-';
export const domainIdSchema = dnsLabel(63);
export const vdcIdSchema = dnsLabel(63 - VDC_NAMESPACE_PREFIX.length);
/** A custom role's id is `custom:<slug>`; the slug is what a client picks. */
export const roleSlugSchema = dnsLabel(40);
export const CUSTOM_ROLE_PREFIX = 'custom:';
export const customRoleId = (slug: string): `custom:${string}` => `${CUSTOM_ROLE_PREFIX}${slug}`;

/**
 * State of a VDC's first namespace `vdc-<id>`: `requested` when the VDC record was created (the namespace
 * is created by a ticket, never by the API), `active` once it exists.
 */
export const NAMESPACE_STATUSES = ['requested', 'active'] as const;
export type NamespaceStatus = (typeof NAMESPACE_STATUSES)[number];

/**
 * Scopes each built-in role may be bound at. Platform roles run the whole platform; a domain admin is an
 * admin of one domain; VDC roles live in one VDC. Custom roles may be bound at any scope: their leaves
 * only take effect at or above their level (see `PERMISSION_TREE`).
 */
export const BUILTIN_ROLE_SCOPES: Record<Role, readonly Scope['type'][]> = {
  [ROLES.opsAdmin]: ['platform'],
  [ROLES.maintenanceAdmin]: ['platform'],
  [ROLES.finance]: ['platform', 'domain'],
  [ROLES.domainAdmin]: ['domain'],
  [ROLES.vdcAdmin]: ['vdc'],
  [ROLES.vdcUser]: ['vdc'],
};

export const BUILTIN_ROLE_LABELS: Record<Role, { en: string; 'zh-CN': string }> = {
  [ROLES.opsAdmin]: { en: 'Operations admin', 'zh-CN': '运营管理员' },
  [ROLES.maintenanceAdmin]: { en: 'Maintenance admin', 'zh-CN': '运维管理员' },
  [ROLES.domainAdmin]: { en: 'Domain admin', 'zh-CN': '域管理员' },
  [ROLES.vdcAdmin]: { en: 'VDC admin', 'zh-CN': '虚拟数据中心管理员' },
  [ROLES.vdcUser]: { en: 'VDC user', 'zh-CN': '虚拟数据中心用户' },
  [ROLES.finance]: { en: 'Finance', 'zh-CN': '财务' },
};

const roleIdSchema = z.string().min(1).max(80);
const permissionSchema = z.custom<Permission>((v) => typeof v === 'string' && isPermission(v), 'not a leaf of the permission tree');
const roleSchema = z.enum(Object.values(ROLES) as [Role, ...Role[]]);

/** Body of `POST /api/domains`. */
export const CreateDomainSchema = z.strictObject({ id: domainIdSchema, name: displayName });
export type CreateDomain = z.infer<typeof CreateDomainSchema>;

/** A VDC's quota on one pool; without `storageGi` (requested storage) the VDC gets `DEFAULT_STORAGE_QUOTA_GI`. */
const vdcQuotaSchema = z.strictObject({
  cpu: QUOTA_FIELDS.cpu,
  memoryGi: QUOTA_FIELDS.memoryGi,
  pods: QUOTA_FIELDS.pods,
  storageGi: QUOTA_FIELDS.storageGi.optional(),
});

/** Most pools one VDC may be placed on. */
export const MAX_VDC_POOLS = 8;

/**
 * Namespace of a VDC's default application space on one of its pools: `vdc-<id>` on its primary pool (the
 * first it was created on), `vdc-<id>-<pool>` on each further pool, so a namespace name names one place.
 */
export const placementNamespace = (vdcId: string, poolId: string, primary: boolean): string =>
  primary ? `${VDC_NAMESPACE_PREFIX}${vdcId}` : `${VDC_NAMESPACE_PREFIX}${vdcId}-${poolId}`;

/**
 * Body of `POST /api/domains/:id/vdcs`: the pools the VDC lives on, each with its whole quota (cpu, memory,
 * pods, storage). The first pool is the VDC's primary pool. Each pool at most once; every namespace a DNS label.
 */
export const CreateVdcSchema = z
  .strictObject({
    id: vdcIdSchema,
    name: displayName,
    pools: z
      .array(z.strictObject({ pool: poolIdSchema, quota: vdcQuotaSchema }))
      .min(1, 'a VDC lives on at least one resource pool')
      .max(MAX_VDC_POOLS),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.pools.forEach((p, i) => {
      if (seen.has(p.pool)) ctx.addIssue({ code: 'custom', path: ['pools', i, 'pool'], message: `pool ${p.pool} is listed twice` });
      seen.add(p.pool);
      if (placementNamespace(body.id, p.pool, i === 0).length > 63)
        ctx.addIssue({
          code: 'custom',
          path: ['pools', i, 'pool'],
          message: `namespace ${placementNamespace(body.id, p.pool, i === 0)} would be longer than 63 characters; use a shorter VDC id or pool id`,
        });
    });
  });
export type CreateVdc = z.infer<typeof CreateVdcSchema>;

/** Body of `PUT /api/vdcs/:id/members/:sub`: the member's complete set of roles on that VDC. */
export const PutMemberSchema = z.strictObject({ roles: z.array(roleIdSchema).max(20) });

/**
 * A user named the way people know them: a username (who signed in at least once) or an email address (of a
 * user who signed in with that verified email, or else of someone invited: the binding waits, pending, for
 * their first sign-in). Anything with an `@` is read as an email.
 */
export const UserRefSchema = z
  .string()
  .trim()
  .min(1)
  .max(254)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .refine((s) => !/[\s\u0000-\u001f\u007f]/.test(s), { message: 'must not contain spaces or control characters' })
  .refine((s) => !s.includes('@') || z.email().safeParse(s).success, { message: 'must be a username or a valid email address' });
export const isEmailRef = (ref: string): boolean => ref.includes('@');

/** Body of `POST /api/vdcs/:id/members`: adds (or re-sets the roles of) a member named by username or email. */
export const AddMemberSchema = z.strictObject({ user: UserRefSchema, roles: z.array(roleIdSchema).min(1).max(20) });
export type AddMember = z.infer<typeof AddMemberSchema>;

/** Query of `GET /api/users/search`: `vdc` scopes the permission check to that VDC's member managers. */
export const UserSearchQuerySchema = z.strictObject({ q: z.string().trim().min(1).max(100), vdc: z.string().min(1).max(63).optional() });

/** A user who signed in, as the user search shows them (no bindings). */
export interface UserSummary {
  sub: string;
  username: string;
  /** Absent for a members manager without the platform-wide view of users (only a whole username or email is confirmed). */
  name?: string;
  email?: string;
}
/** Most users one search answers. */
export const USER_SEARCH_LIMIT = 20;

export const ScopeSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('platform') }),
  z.strictObject({ type: z.literal('domain'), domainId: domainIdSchema }),
  z.strictObject({ type: z.literal('vdc'), vdcId: vdcIdSchema }),
]);

/** Body of `POST /api/bindings`: grants one binding to a user named by username or email (pending for an unknown email). */
export const GrantBindingSchema = z.strictObject({ user: UserRefSchema, role: roleIdSchema, scope: ScopeSchema });
export type GrantBinding = z.infer<typeof GrantBindingSchema>;

/** A binding waiting for an invited email's first sign-in. */
export interface PendingBindingView {
  email: string;
  role: RoleBinding['role'];
  scope: Scope;
  invitedBy: { sub: string; name: string };
  createdAt: string;
}

/** Body of `PUT /api/users/:sub/bindings`: replaces all of the user's bindings. */
export const PutBindingsSchema = z.strictObject({
  bindings: z.array(z.strictObject({ role: roleIdSchema, scope: ScopeSchema })).max(100),
});

/** Body of `POST /api/roles`. */
export const CreateRoleSchema = z.strictObject({
  id: roleSlugSchema,
  name: displayName,
  baseRole: roleSchema,
  permissions: z.array(permissionSchema).min(1).max(100),
});
export type CreateRole = z.infer<typeof CreateRoleSchema>;

/** Body of `PATCH /api/roles/:id`. */
export const PatchRoleSchema = z
  .strictObject({ name: displayName.optional(), baseRole: roleSchema.optional(), permissions: z.array(permissionSchema).min(1).max(100).optional() })
  .refine((p) => p.name !== undefined || p.baseRole !== undefined || p.permissions !== undefined, {
    message: 'at least one of name, baseRole, permissions is required',
  });
export type PatchRole = z.infer<typeof PatchRoleSchema>;

export interface DomainView {
  id: string;
  name: string;
  vdcCount: number;
}
export interface DomainDetailView extends DomainView {
  /** The domain's VDCs the caller may read. */
  vdcs: { id: string; name: string }[];
}

/**
 * Billing labels of a VDC (e.g. `cost-center=cc-104`): finance reports by label select the VDCs carrying
 * one. Keys follow Kubernetes label keys (optional DNS prefix and `/`), values Kubernetes label values.
 */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
export const VdcLabelKeySchema = z.string().max(317).regex(LABEL_KEY, 'must be a label key like cost-center or example.com/team');
export const VdcLabelValueSchema = z.string().max(63).regex(LABEL_VALUE, 'must be a label value (letters, digits, - _ . ; at most 63)');
export const VdcLabelsSchema = z.record(VdcLabelKeySchema, VdcLabelValueSchema).refine((l) => Object.keys(l).length <= 16, { message: 'at most 16 labels' });
/** Body of `PUT /api/vdcs/:id/labels`: the whole label set (replaces the previous one). */
export const PutVdcLabelsSchema = z.strictObject({ labels: VdcLabelsSchema });
export type VdcLabels = z.infer<typeof VdcLabelsSchema>;
/** `key=value`: one billing label, as label reports select by (`?label=cost-center=cc-104`). */
export const LabelSelectorSchema = z
  .string()
  .max(381)
  .regex(/^[^=]+=[^=]*$/, 'must be key=value')
  .refine((s) => VdcLabelKeySchema.safeParse(s.split('=')[0]).success && VdcLabelValueSchema.safeParse(s.split('=')[1]).success, {
    message: 'must be key=value with a label key and a label value',
  });
export const parseLabelSelector = (s: string): { key: string; value: string } => {
  const [key = '', value = ''] = s.split('=');
  return { key, value };
};
export type PutVdcLabels = z.infer<typeof PutVdcLabelsSchema>;

/** A VDC's share of a further pool besides its primary one: its namespace there and its quota there. */
export interface VdcPlacement {
  pool: string;
  namespace: string;
  quota: Quota;
}

/**
 * Provisioning of a VDC (no approval: an administrator created it): `provisioning` while its workflow makes
 * the default application space on each pool, then `ready`, or `failed` with the reason (an admin retries).
 * `deleting` while its delete workflow removes its namespaces and registry projects.
 */
export const VDC_STATES = ['provisioning', 'ready', 'failed', 'deleting'] as const;
export type VdcState = (typeof VDC_STATES)[number];
export interface VdcProvisioning {
  state: VdcState;
  reason?: string;
  /** When the state last changed (ISO 8601). */
  at: string;
}

/** What the pool helpers need of a VDC record or view. */
export interface VdcPlacementShape {
  pool: string;
  namespace: string;
  quota?: Quota;
  placements?: readonly VdcPlacement[];
  spaces?: readonly { namespace: string; pool?: string }[];
}

/** The VDC's pools with their default namespace and quota, primary pool first. */
export function vdcPools(vdc: VdcPlacementShape): VdcPlacement[] {
  return [{ pool: vdc.pool, namespace: vdc.namespace, quota: vdc.quota ?? {} }, ...(vdc.placements ?? [])];
}

/**
 * The pool a namespace of this VDC lives on: a placement's namespace is on its pool, an application space on
 * the pool it was created on (its `pool`, or the primary pool), anything else on the primary pool.
 */
export function poolOfNamespace(vdc: VdcPlacementShape, namespace: string): string {
  const placement = vdc.placements?.find((p) => p.namespace === namespace);
  if (placement) return placement.pool;
  return vdc.spaces?.find((s) => s.namespace === namespace)?.pool ?? vdc.pool;
}

/** Every namespace of this VDC on `pool`: its default namespace there and its application spaces there. */
export function namespacesOnPool(vdc: VdcPlacementShape, pool: string): Set<string> {
  const all = [...vdcPools(vdc).map((p) => p.namespace), ...(vdc.spaces ?? []).map((s) => s.namespace)];
  return new Set(all.filter((ns) => poolOfNamespace(vdc, ns) === pool));
}

/** The quota enforced in a namespace of this VDC: that of the pool it lives on. */
export function quotaOfNamespace(vdc: VdcPlacementShape, namespace: string): Quota {
  const pool = poolOfNamespace(vdc, namespace);
  return vdcPools(vdc).find((p) => p.pool === pool)?.quota ?? {};
}

/** One pool of a VDC as `GET /api/vdcs/:id/pools` shows it. */
export interface VdcPoolView extends VdcPlacement {
  /** The VDC's namespaces on that pool (its namespace there and its application spaces there). */
  namespaces: string[];
  /** Usage summed over the VDC's namespaces on that pool (ResourceQuota status), absent when it could not be read. */
  used?: Quota;
  /** Why `used` is absent (the pool is unreachable, has no read-only identity, …). */
  usageUnavailable?: string;
}

/** One VDC on a pool as `GET /api/pools/:id/vdcs` shows it: its quota and usage on that pool. */
export interface PoolVdcView {
  vdcId: string;
  name: string;
  domainId: string;
  /** Whether the pool is the VDC's primary pool. */
  primary: boolean;
  namespaces: string[];
  quota: Quota;
  used?: Quota;
  usageUnavailable?: string;
  provisioning?: VdcProvisioning;
}

export interface VdcView {
  id: string;
  name: string;
  domainId: string;
  namespace: string;
  namespaceStatus: NamespaceStatus;
  /** The primary pool (the first the VDC was created on); `quota` is its quota there. */
  pool: string;
  quota: Quota;
  /** Every pool of the VDC with its quota, primary first. */
  pools: VdcPlacement[];
  provisioning?: VdcProvisioning;
  /** Application spaces created by tickets. */
  spaces: VdcSpace[];
  membersCount: number;
  /** Monthly budget, when an admin set one (see `common/budget.ts`). */
  monthlyBudget?: MonthlyBudget;
  /** Billing labels (see {@link VdcLabelsSchema}); `{}` when none. */
  labels: VdcLabels;
}

export interface MemberView {
  /** Empty for a pending member. */
  sub: string;
  username: string;
  name: string;
  email: string;
  /** The member's roles bound on this VDC. */
  roles: string[];
  /** An invitation by email: the roles apply at that email's first sign-in. */
  pending?: true;
}

/**
 * What a member change (`PUT /api/vdcs/:id/members/:sub`, `POST /api/vdcs/:id/members`) answers: the binding's
 * own data only, never the user's name or email (a members manager must not learn who a non-member is).
 */
export interface MemberBindingView {
  vdcId: string;
  /** Empty for a pending invitation. */
  sub: string;
  /** The roles bound on this VDC after the change. */
  roles: string[];
  /** An invitation by email (the email the caller gave): the roles apply at that email's first sign-in. */
  pending?: true;
  email?: string;
}

export interface UserView {
  sub: string;
  username: string;
  name: string;
  email: string;
  bindings: RoleBinding[];
  lastLoginAt?: string;
}

export interface RoleView {
  id: string;
  name: string;
  builtin: boolean;
  /** Role type the role acts as in approval chains. */
  baseRole: Role;
  permissions: Permission[];
  /** Where a built-in role can be bound; custom roles: any scope. */
  scopes: Scope['type'][];
  createdBy?: string;
  createdAt?: string;
  updatedAt?: string;
}

/** A VDC as stored (`_id` is its id); store/ names it `VdcDoc`. Plain values: mongoose documents never leave store/. */
export interface Vdc {
  _id: string;
  name: string;
  domainId: string;
  namespace: string;
  /** The primary pool (first the VDC was created on); `namespace` and `quota` are the VDC's there. */
  pool: string;
  quota: Quota;
  /** Further pools the VDC lives on, each with its namespace and quota there. */
  placements?: VdcPlacement[];
  /** Provisioning state (absent on records made before VDCs were provisioned by workflow: ready). */
  provisioning?: VdcProvisioning;
  /**
   * Whether the VDC's first namespace (`namespace`) exists: `requested` for a VDC created through the API
   * (a ticket creates it); absent on seeded records, whose namespace the seed created.
   */
  namespaceStatus?: NamespaceStatus;
  /** Application spaces created by tickets (each one namespace). */
  spaces?: VdcSpace[];
  /** Monthly budget set by a domain or operations admin; the quota policy auto-approves small increases under it. */
  monthlyBudget?: MonthlyBudget;
  /** Billing labels as a list (label keys may contain dots, which MongoDB field paths cannot). */
  labels?: { key: string; value: string }[];
  /** Leases in force (recorded by the lease workflow between its apply and its revert). */
  leases?: ActiveLease[];
}
