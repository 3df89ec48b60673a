import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpYaml, loadAllYaml } from '@kubernetes/client-node';
import type { StackConfig } from '../../lib/config.ts';
import type { KubeLayout } from './layout.ts';

/** Annotation that marks a Node as simulated by this kwok (its `--manage-nodes-with-annotation-selector`). */
export const KWOK_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

/** What `kubectl logs` returns for every container on a kwok node (CRI log format). */
const CONTAINER_LOG = '2026-01-01T00:00:00.000000000Z stdout F edgeport: simulated container on a kwok node\n';

/**
 * Writes kwok's `--config`: its options, the Stage objects shipped in the build's stage folder (other
 * documents there, such as test data, are skipped), and one ClusterLogs rule serving a fixed log for
 * every container. Options are all spelled out: once a config file carries a KwokConfiguration, kwok
 * applies no defaults to it, and zero parallelism stalls its controllers.
 */
export function writeKwokConfig(cfg: StackConfig, l: KubeLayout): void {
  mkdirSync(l.kwokDir, { recursive: true });
  const logsFile = join(l.kwokDir, 'container.log');
  if (!existsSync(logsFile)) writeFileSync(logsFile, CONTAINER_LOG);

  const stages = readdirSync(l.stagesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => loadAllYaml(readFileSync(join(l.stagesDir, f), 'utf8')) as { kind?: string }[])
    .filter((doc) => doc?.kind === 'Stage');
  if (!stages.some((s) => (s as { metadata?: { name?: string } }).metadata?.name === 'node-initialize')) {
    throw new Error(`no kwok Stage "node-initialize" in ${l.stagesDir}; rebuild with stack/scripts/build-kube.sh`);
  }

  const configuration = {
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokConfiguration',
    options: {
      cidr: l.cluster.podCidr,
      nodeIP: cfg.host,
      nodePort: l.ports.kwok,
      serverAddress: `${cfg.host}:${l.ports.kwok}`,
      nodeLeaseDurationSeconds: 40,
      nodeLeaseParallelism: 4,
      nodePlayStageParallelism: 4,
      podPlayStageParallelism: 4,
      podsOnNodeSyncParallelism: 2,
      enablePodsOnNodeSyncListPager: true,
      enablePodsOnNodeSyncStreamWatch: false,
      enableDebuggingHandlers: true,
      enableProfilingHandler: false,
      enableContentionProfiling: false,
    },
  };
  const clusterLogs = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterLogs',
    metadata: { name: 'all-containers' },
    spec: { logs: [{ logsFile }] },
  };
  writeFileSync(l.kwokConfig, [configuration, clusterLogs, ...stages].map((doc) => dumpYaml(doc)).join('---\n'));
}
