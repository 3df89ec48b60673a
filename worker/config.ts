import { z } from 'zod';
import { imageSettingsFromEnv, type ImageDeployPolicy, type ImageSettings } from '../infra/registry/image-settings.ts';
import { REPORT_JOB_KEEP_SECONDS } from '../services/report-jobs.ts';
import { isCredentialsKey } from '../store/credentials.ts';
import { registryDriverSettings, RegistryDriverEnv } from '../infra/registry/driver-config.ts';

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

const WorkerConfigSchema = z
  .object({
    EDGEPORT_TEMPORAL_ADDRESS: z.string().min(1),
    EDGEPORT_TEMPORAL_NAMESPACE: z.string().default('default'),
    EDGEPORT_MONGO_URL: z.string().url(),
    EDGEPORT_REDIS_URL: z.string().url().optional(),
    EDGEPORT_TASK_QUEUE: z.string().optional(),
    EDGEPORT_FAILPOINTS: list,
    EDGEPORT_WORKFLOW_BUNDLE: z.string().min(1).optional(),
    EDGEPORT_WORKER_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
    EDGEPORT_CREDENTIALS_KEY: credentialsKey,
    EDGEPORT_CREDENTIALS_PREVIOUS_KEYS: credentialsKeys,
    EDGEPORT_REGISTRY_URL: z.string().url().optional(),
    EDGEPORT_REGISTRY_TOKEN_KEY_FILE: z.string().min(1).optional(),
    EDGEPORT_REGISTRY_TOKEN_CERT_FILE: z.string().min(1).optional(),
    EDGEPORT_ADVISORY_FEED: z.string().min(1).optional(),
    EDGEPORT_LEDGER_VERIFY_INTERVAL_S: z.coerce.number().int().min(0).default(86_400),
    EDGEPORT_HARBOR_ROBOT_ROTATION_INTERVAL_S: z.coerce.number().int().min(0).default(3600),
    EDGEPORT_HARBOR_ROBOT_ROTATION_WINDOW_DAYS: z.coerce.number().int().min(1).max(365).default(7),
    EDGEPORT_HARBOR_ROBOT_DURATION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    EDGEPORT_HARBOR_PROJECT_STORAGE_GI: z.coerce.number().int().min(0).max(1_048_576).default(20),
    EDGEPORT_REPORT_FILE_RETENTION_S: z.coerce.number().int().min(3600).default(REPORT_JOB_KEEP_SECONDS),
    EDGEPORT_REPORT_FILE_SWEEP_INTERVAL_S: z.coerce.number().int().min(0).default(3600),
    EDGEPORT_WORKER_HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    EDGEPORT_WORKER_HEALTH_HOST: z.string().default('127.0.0.1'),
    EDGEPORT_READY_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2000),
  })
  .and(RegistryDriverEnv);

export interface WorkerConfig {
  temporalAddress: string;
  temporalNamespace: string;
  mongoUrl: string;
  /** Redis for BullMQ background jobs (report jobs); without it this process runs no BullMQ worker. */
  redisUrl?: string;
  taskQueue?: string;
  failpoints: string[];
  /** Temporal SDK runtime log level (bundling, worker state changes are INFO). */
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** The probe endpoint (`/healthz`, `/readyz`); absent → none (tests start many workers). */
  health?: { port: number; host: string; readyTimeoutMs: number };
  /** Secret: never logged. Opens resource-pool credentials and config-center Secret values inside activities. */
  credentials: { key: string; previousKeys: string[] };
  /**
   * The registry the worker drives (`EDGEPORT_REGISTRY_DRIVER`): the local OCI registry (token key file: secret;
   * all three registry settings or none) or Harbor v2.0 (URL, user, password: secret), and the scanner's feed.
   */
  registry?:
    | { driver?: 'local'; url: string; tokenKeyFile: string; tokenCertFile: string; advisoryFeed?: string; deployPolicy: ImageDeployPolicy }
    | {
        driver: 'harbor';
        url: string;
        username: string;
        password: string;
        advisoryFeed?: string;
        deployPolicy: ImageDeployPolicy;
        robotDurationDays: number;
        projectStorageGi: number;
      };
  /** Image deploy rules, rescan and metering intervals (`EDGEPORT_IMAGE_*`, see infra/registry/image-settings.ts). */
  images: ImageSettings;
  /**
   * Scheduled rotation of Harbor's VDC robot accounts (with Redis and `EDGEPORT_REGISTRY_DRIVER=harbor`): every
   * `everySeconds` (0: off), robots expiring within `windowDays` get `durationDays` more and a new secret.
   */
  harborRobotRotation: { everySeconds: number; windowDays: number; durationDays: number };
  /** Seconds between scheduled ledger verify runs (BullMQ job scheduler; 0 removes it). */
  ledgerVerifyEverySeconds: number;
  /** A workflow bundle prebuilt by `worker/bundle.ts` (skips webpack at start-up); absent: bundle on start. */
  workflowBundlePath?: string;
  /** Report files in GridFS older than `retentionSeconds` are deleted every `sweepEverySeconds` (0: no schedule). */
  reportFiles: { retentionSeconds: number; sweepEverySeconds: number };
}

/** Parses the worker's settings once at start-up; nothing else in the worker reads `process.env`. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const c = WorkerConfigSchema.parse(env);
  const images = imageSettingsFromEnv(env);
  return {
    images,
    temporalAddress: c.EDGEPORT_TEMPORAL_ADDRESS,
    temporalNamespace: c.EDGEPORT_TEMPORAL_NAMESPACE,
    mongoUrl: c.EDGEPORT_MONGO_URL,
    ...(c.EDGEPORT_REDIS_URL ? { redisUrl: c.EDGEPORT_REDIS_URL } : {}),
    ...(c.EDGEPORT_TASK_QUEUE ? { taskQueue: c.EDGEPORT_TASK_QUEUE } : {}),
    failpoints: c.EDGEPORT_FAILPOINTS,
    ...(c.EDGEPORT_WORKFLOW_BUNDLE ? { workflowBundlePath: c.EDGEPORT_WORKFLOW_BUNDLE } : {}),
    logLevel: c.EDGEPORT_WORKER_LOG_LEVEL,
    ...(c.EDGEPORT_WORKER_HEALTH_PORT
      ? { health: { port: c.EDGEPORT_WORKER_HEALTH_PORT, host: c.EDGEPORT_WORKER_HEALTH_HOST, readyTimeoutMs: c.EDGEPORT_READY_TIMEOUT_MS } }
      : {}),
    ledgerVerifyEverySeconds: c.EDGEPORT_LEDGER_VERIFY_INTERVAL_S,
    harborRobotRotation: {
      everySeconds: c.EDGEPORT_HARBOR_ROBOT_ROTATION_INTERVAL_S,
      windowDays: c.EDGEPORT_HARBOR_ROBOT_ROTATION_WINDOW_DAYS,
      durationDays: c.EDGEPORT_HARBOR_ROBOT_DURATION_DAYS,
    },
    reportFiles: { retentionSeconds: c.EDGEPORT_REPORT_FILE_RETENTION_S, sweepEverySeconds: c.EDGEPORT_REPORT_FILE_SWEEP_INTERVAL_S },
    credentials: { key: c.EDGEPORT_CREDENTIALS_KEY, previousKeys: c.EDGEPORT_CREDENTIALS_PREVIOUS_KEYS },
    ...(() => {
      const harbor = registryDriverSettings(c);
      const feed = c.EDGEPORT_ADVISORY_FEED ? { advisoryFeed: c.EDGEPORT_ADVISORY_FEED } : {};
      if (harbor)
        return {
          registry: {
            driver: 'harbor' as const,
            ...harbor,
            ...feed,
            deployPolicy: images.deploy,
            robotDurationDays: c.EDGEPORT_HARBOR_ROBOT_DURATION_DAYS,
            projectStorageGi: c.EDGEPORT_HARBOR_PROJECT_STORAGE_GI,
          },
        };
      if (c.EDGEPORT_REGISTRY_URL && c.EDGEPORT_REGISTRY_TOKEN_KEY_FILE && c.EDGEPORT_REGISTRY_TOKEN_CERT_FILE) {
        return {
          registry: {
            url: c.EDGEPORT_REGISTRY_URL,
            tokenKeyFile: c.EDGEPORT_REGISTRY_TOKEN_KEY_FILE,
            tokenCertFile: c.EDGEPORT_REGISTRY_TOKEN_CERT_FILE,
            ...feed,
            deployPolicy: images.deploy,
          },
        };
      }
      return {};
    })(),
  };
}
