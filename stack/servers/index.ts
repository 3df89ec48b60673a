import type { StackServer } from '../lib/server.ts';
import { KUBE_SERVERS } from './kube.ts';
import { mongo } from './mongo.ts';
import { oidc } from './oidc.ts';
import { redis } from './redis.ts';
import { registry } from './registry.ts';
import { temporal } from './temporal.ts';

/** Every server of the local stack, in start order. */
export const SERVERS: readonly StackServer[] = [temporal, mongo, redis, oidc, registry, ...KUBE_SERVERS];
