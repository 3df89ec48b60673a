import { z } from 'zod';

/**
 * The registry-driver settings the api and the worker share (each parses them once, in its config module):
 * `EDGEPORT_REGISTRY_DRIVER=local` (default: the local OCI registry of `EDGEPORT_REGISTRY_URL` with Edgeport as its
 * token service) or `harbor` (Harbor v2.0 at `EDGEPORT_HARBOR_URL` with Basic credentials). The Harbor password is a
 * secret: it is kept only in the parsed config and the driver's Authorization header, never logged.
 */
export const RegistryDriverEnv = z
  .object({
    EDGEPORT_REGISTRY_DRIVER: z.enum(['local', 'harbor']).default('local'),
    EDGEPORT_HARBOR_URL: z.string().url().optional(),
    EDGEPORT_HARBOR_USERNAME: z.string().min(1).optional(),
    EDGEPORT_HARBOR_PASSWORD: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.EDGEPORT_REGISTRY_DRIVER !== 'harbor') return;
    for (const key of ['EDGEPORT_HARBOR_URL', 'EDGEPORT_HARBOR_USERNAME', 'EDGEPORT_HARBOR_PASSWORD'] as const) {
      if (!c[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when EDGEPORT_REGISTRY_DRIVER=harbor' });
    }
  });

/** Harbor connection settings (the password is a secret: never logged). */
export interface HarborSettings {
  url: string;
  username: string;
  password: string;
}

/** The Harbor settings when Harbor is the selected driver, else null (the local registry's settings apply). */
export function registryDriverSettings(c: z.infer<typeof RegistryDriverEnv>): HarborSettings | null {
  if (c.EDGEPORT_REGISTRY_DRIVER !== 'harbor' || !c.EDGEPORT_HARBOR_URL || !c.EDGEPORT_HARBOR_USERNAME || !c.EDGEPORT_HARBOR_PASSWORD) return null;
  return { url: c.EDGEPORT_HARBOR_URL, username: c.EDGEPORT_HARBOR_USERNAME, password: c.EDGEPORT_HARBOR_PASSWORD };
}
