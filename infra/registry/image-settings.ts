import { z } from 'zod';
import { SCAN_SEVERITIES, type ScanSeverity } from '../../common/image-scan.ts';

/**
 * Image rules and schedules, read once from the environment by the api and the worker (their config
 * modules call {@link imageSettingsFromEnv}; nothing here reads `process.env` itself).
 */
export interface ImageDeployPolicy {
  /** Deploys refuse an image of Edgeport's registry whose last scan has a finding at or above this (or no scan). */
  blockSeverity: ScanSeverity;
  /** Images not hosted on Edgeport's registry are not scanned: `allow` lets them through, `refuse` refuses them. */
  external: 'allow' | 'refuse';
  /** Deploys refuse an image of Edgeport's registry that has no signature. */
  requireSignature: boolean;
}

export interface ImageSettings {
  deploy: ImageDeployPolicy;
  /** Minutes between whole-registry rescans (0: none). */
  rescanMinutes: number;
  /** Minutes between image-storage metering samples (0: none); each sample bills its interval. */
  meteringMinutes: number;
  /** Shared secret the registry sends in `X-Edgeport-Registry-Secret` with its push notifications (secret). */
  notifySecret?: string;
}

export const IMAGE_SETTINGS_DEFAULTS: ImageSettings = {
  deploy: { blockSeverity: 'High', external: 'allow', requireSignature: false },
  rescanMinutes: 1440,
  meteringMinutes: 60,
};

const Schema = z.object({
  EDGEPORT_IMAGE_DEPLOY_BLOCK_SEVERITY: z.enum(SCAN_SEVERITIES).default('High'),
  EDGEPORT_IMAGE_EXTERNAL: z.enum(['allow', 'refuse']).default('allow'),
  EDGEPORT_IMAGE_REQUIRE_SIGNATURE: z.enum(['true', 'false']).default('false'),
  EDGEPORT_IMAGE_RESCAN_MINUTES: z.coerce.number().int().min(0).max(525_600).default(1440),
  EDGEPORT_IMAGE_METERING_MINUTES: z.coerce.number().int().min(0).max(1440).default(60),
  EDGEPORT_REGISTRY_NOTIFY_SECRET: z.string().min(16, 'at least 16 characters').optional(),
});

export function imageSettingsFromEnv(env: NodeJS.ProcessEnv): ImageSettings {
  const c = Schema.parse(env);
  return {
    deploy: {
      blockSeverity: c.EDGEPORT_IMAGE_DEPLOY_BLOCK_SEVERITY,
      external: c.EDGEPORT_IMAGE_EXTERNAL,
      requireSignature: c.EDGEPORT_IMAGE_REQUIRE_SIGNATURE === 'true',
    },
    rescanMinutes: c.EDGEPORT_IMAGE_RESCAN_MINUTES,
    meteringMinutes: c.EDGEPORT_IMAGE_METERING_MINUTES,
    ...(c.EDGEPORT_REGISTRY_NOTIFY_SECRET ? { notifySecret: c.EDGEPORT_REGISTRY_NOTIFY_SECRET } : {}),
  };
}
