import { z } from 'zod';
import { imageSettingsFromEnv, type ImageSettings } from '../infra/registry/image-settings.ts';
import { isCredentialsKey } from '../store/credentials.ts';
import { registryDriverSettings, RegistryDriverEnv, type HarborSettings } from '../infra/registry/driver-config.ts';
import { trustedProxyCidrs } from './ip-match.ts';

const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
/** Base64 of 32 random bytes (AES-256-GCM key sealing stored credentials); previous keys still open old records. */
const credentialsKey = z.string().refine(isCredentialsKey, 'must be base64 of 32 random bytes (e.g. `openssl rand -base64 32`)');
const credentialsKeys = list.refine((ks) => ks.every(isCredentialsKey), 'each key must be base64 of 32 random bytes');
const bool = z
  .enum(['true', 'false'])
  .default('false')
  .transform((s) => s === 'true');
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
  .transform((s) => s.toLowerCase());
/** Expanded to CIDRs at start-up, so a typo stops the API instead of silently trusting nobody (or everybody). */
const proxies = z
  .string()
  .default('loopback')
  .transform((s, ctx) => {
    try {
      return trustedProxyCidrs(
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      );
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const ApiEnvSchema = z
  .object({
    EDGEPORT_API_HOST: z.string().default('127.0.0.1'),
    EDGEPORT_API_PORT: z.coerce.number().int().min(0).max(65535).default(17250),
    EDGEPORT_PUBLIC_URL: z.string().url(),
    EDGEPORT_TEMPORAL_ADDRESS: z.string().min(1),
    EDGEPORT_TEMPORAL_NAMESPACE: z.string().default('default'),
    EDGEPORT_TASK_QUEUE: z.string().optional(),
    EDGEPORT_MONGO_URL: z.string().url(),
    EDGEPORT_REDIS_URL: z.string().url(),
    EDGEPORT_OIDC_ISSUER: z.string().url(),
    EDGEPORT_OIDC_CLIENT_ID: z.string().min(1),
    EDGEPORT_OIDC_CLIENT_SECRET: z.string().min(1),
    EDGEPORT_SESSION_SECRET: z.string().min(32),
    EDGEPORT_SESSION_IDLE_MINUTES: z.coerce.number().positive().default(30),
    EDGEPORT_SESSION_ABSOLUTE_HOURS: z.coerce.number().positive().default(12),
    EDGEPORT_APPROVAL_TIMEOUT_HOURS: z.coerce.number().positive().default(72),
    EDGEPORT_RECONCILE_SECONDS: z.coerce.number().positive().default(5),
    EDGEPORT_PORTAL_DIR: z.string().optional(),
    EDGEPORT_FAILPOINTS: list,
    EDGEPORT_SECURE_COOKIES: bool,
    EDGEPORT_TRUSTED_PROXIES: proxies,
    EDGEPORT_IPLIST_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
    EDGEPORT_READY_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2000),
    EDGEPORT_DEPENDENCY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
    EDGEPORT_DEPENDENCY_CHECK_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
    EDGEPORT_MTLS_MODE: z.enum(['off', 'required']).default('off'),
    EDGEPORT_MTLS_SUBJECT_HEADER: headerName.default('x-ssl-client-s-dn'),
    EDGEPORT_MTLS_VERIFY_HEADER: headerName.default('x-ssl-client-verify'),
    EDGEPORT_CREDENTIALS_KEY: credentialsKey,
    EDGEPORT_CREDENTIALS_PREVIOUS_KEYS: credentialsKeys,
    EDGEPORT_BOOTSTRAP_ADMINS: list.pipe(
      z.array(
        z
          .string()
          .max(254)
          .regex(/^[^\s@]+(@[^\s@]+)?$/, 'must be a username or an email address'),
      ),
    ),
    EDGEPORT_REGISTRY_URL: z.string().url().optional(),
    EDGEPORT_POOL_READ_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
    EDGEPORT_REGISTRY_TOKEN_KEY_FILE: z.string().min(1).optional(),
    EDGEPORT_REGISTRY_TOKEN_CERT_FILE: z.string().min(1).optional(),
  })
  .and(RegistryDriverEnv);

export interface ApiConfig {
  host: string;
  port: number;
  publicUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue?: string;
  mongoUrl: string;
  redisUrl: string;
  oidc: { issuer: string; clientId: string; clientSecret: string };
  /** Secret: never logged. */
  sessionSecret: string;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  secureCookies: boolean;
  approvalTimeoutMs: number;
  reconcileEveryMs: number;
  portalDir?: string;
  failpoints: string[];
  /** CIDRs of the reverse proxies whose `X-Forwarded-For` (and client-certificate headers) are believed. */
  trustedProxies: string[];
  ipListCacheMs: number;
  /** Bound of each dependency check of `/readyz`. */
  readyTimeoutMs: number;
  /** Fail-fast bounds: MongoDB server selection, Redis commands, Temporal calls of a request; and how often the dependencies are checked. */
  dependencies: { timeoutMs: number; checkEveryMs: number };
  mtls: { mode: 'off' | 'required'; subjectHeader: string; verifyHeader: string };
  /** Secret: never logged. Seals resource-pool credentials before they are stored. */
  credentials: { key: string; previousKeys: string[] };
  /** The OCI registry this API is the token service of; absent: no registry routes. The key file is a secret. */
  registry?: { url: string; tokenKeyFile: string; tokenCertFile: string };
  /** Harbor v2.0 when `EDGEPORT_REGISTRY_DRIVER=harbor`: the image listing reads it (the password is a secret: never logged). */
  harbor?: HarborSettings;
  /**
   * `EDGEPORT_BOOTSTRAP_ADMINS` (lower-cased): usernames and emails that get the built-in operations-admin
   * platform binding at sign-in when they lack it (an email must be verified by the provider). Taking a
   * name off the list revokes nothing.
   */
  bootstrapAdmins: string[];
  /**
   * Per-request timeout (ms) of the interactive reads of a pool (workloads, pods, events, logs, claims,
   * usage) made with the pool's read-only identity: past it the read answers 503 naming the pool.
   */
  poolReadTimeoutMs: number;
  /** Image deploy rules and the registry's notification secret (`EDGEPORT_IMAGE_*`, `EDGEPORT_REGISTRY_NOTIFY_SECRET`). */
  images: ImageSettings;
}

/** Parses the API's settings once at start-up; nothing else in the API reads `process.env`. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const c = ApiEnvSchema.parse(env);
  return {
    host: c.EDGEPORT_API_HOST,
    port: c.EDGEPORT_API_PORT,
    publicUrl: c.EDGEPORT_PUBLIC_URL,
    temporalAddress: c.EDGEPORT_TEMPORAL_ADDRESS,
    temporalNamespace: c.EDGEPORT_TEMPORAL_NAMESPACE,
    ...(c.EDGEPORT_TASK_QUEUE ? { taskQueue: c.EDGEPORT_TASK_QUEUE } : {}),
    mongoUrl: c.EDGEPORT_MONGO_URL,
    redisUrl: c.EDGEPORT_REDIS_URL,
    oidc: { issuer: c.EDGEPORT_OIDC_ISSUER, clientId: c.EDGEPORT_OIDC_CLIENT_ID, clientSecret: c.EDGEPORT_OIDC_CLIENT_SECRET },
    sessionSecret: c.EDGEPORT_SESSION_SECRET,
    idleTimeoutMs: c.EDGEPORT_SESSION_IDLE_MINUTES * 60_000,
    absoluteTimeoutMs: c.EDGEPORT_SESSION_ABSOLUTE_HOURS * 3_600_000,
    secureCookies: c.EDGEPORT_SECURE_COOKIES,
    approvalTimeoutMs: c.EDGEPORT_APPROVAL_TIMEOUT_HOURS * 3_600_000,
    reconcileEveryMs: c.EDGEPORT_RECONCILE_SECONDS * 1000,
    ...(c.EDGEPORT_PORTAL_DIR ? { portalDir: c.EDGEPORT_PORTAL_DIR } : {}),
    failpoints: c.EDGEPORT_FAILPOINTS,
    bootstrapAdmins: c.EDGEPORT_BOOTSTRAP_ADMINS.map((s) => s.toLowerCase()),
    trustedProxies: c.EDGEPORT_TRUSTED_PROXIES,
    ipListCacheMs: c.EDGEPORT_IPLIST_CACHE_SECONDS * 1000,
    readyTimeoutMs: c.EDGEPORT_READY_TIMEOUT_MS,
    dependencies: { timeoutMs: c.EDGEPORT_DEPENDENCY_TIMEOUT_MS, checkEveryMs: c.EDGEPORT_DEPENDENCY_CHECK_MS },
    mtls: { mode: c.EDGEPORT_MTLS_MODE, subjectHeader: c.EDGEPORT_MTLS_SUBJECT_HEADER, verifyHeader: c.EDGEPORT_MTLS_VERIFY_HEADER },
    credentials: { key: c.EDGEPORT_CREDENTIALS_KEY, previousKeys: c.EDGEPORT_CREDENTIALS_PREVIOUS_KEYS },
    images: imageSettingsFromEnv(env),
    ...(() => {
      const harbor = registryDriverSettings(c);
      return harbor ? { harbor } : {};
    })(),
    poolReadTimeoutMs: c.EDGEPORT_POOL_READ_TIMEOUT_MS,
    ...(c.EDGEPORT_REGISTRY_URL && c.EDGEPORT_REGISTRY_TOKEN_KEY_FILE && c.EDGEPORT_REGISTRY_TOKEN_CERT_FILE
      ? { registry: { url: c.EDGEPORT_REGISTRY_URL, tokenKeyFile: c.EDGEPORT_REGISTRY_TOKEN_KEY_FILE, tokenCertFile: c.EDGEPORT_REGISTRY_TOKEN_CERT_FILE } }
      : {}),
  };
}
