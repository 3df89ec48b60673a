import { ApplicationFailure } from '@temporalio/common';
import { HARBOR_REGISTRY_FAILURES, type BrowseHarborQuery, type HarborBrowseResult, type HarborRegistryCheckResult } from '../common/harbor-registries.ts';
import { CredentialsUnreadableError, type CredentialCipher } from '../store/credentials.ts';
import { harborRegistrySecretAad } from '../store/harbor-registries.ts';
import type { Store } from '../store/index.ts';
import { RegistryNotFound, RegistryRefused } from '../infra/registry/driver.ts';
import { harborDriver, type HarborDriver } from '../infra/registry/harbor-driver.ts';

export interface HarborRegistryActivityDeps {
  store: Store;
  /** Opens the sealed registry secrets; absent when the worker has no credentials key (the activities then fail). */
  credentials?: CredentialCipher;
  /** Overrides for tests. */
  harborFetch?: typeof fetch;
}

/** Timeout of each request to a third-party Harbor. */
const REQUEST_TIMEOUT_MS = 8_000;

const nonRetryable = (message: string, type: string): ApplicationFailure => ApplicationFailure.nonRetryable(message, type);

/**
 * Maps a failed call to a third-party Harbor once: 401/403 → credentials refused; 404 or another 4xx on the
 * API, or a body that is not Harbor's JSON → not a Harbor v2.0; network errors and 5xx stay plain (retried).
 * Messages never carry the secret (the driver's errors name the operation and the status only).
 */
function failed(err: unknown, id: string, url: string): Error {
  if (err instanceof RegistryRefused && (err.status === 401 || err.status === 403)) {
    return nonRetryable(
      err.status === 401
        ? `registry ${id}: Harbor refused the credentials (401 Unauthorized): wrong username or password/robot secret`
        : `registry ${id}: the credentials may not list projects (403 Forbidden)`,
      HARBOR_REGISTRY_FAILURES.credentialsRefused,
    );
  }
  if (err instanceof RegistryNotFound || err instanceof RegistryRefused || err instanceof SyntaxError) {
    return nonRetryable(`registry ${id}: ${url} does not answer as Harbor v2.0 (/api/v2.0/projects): ${err.message}`, HARBOR_REGISTRY_FAILURES.notHarbor);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Activities of connected third-party Harbor registries: the save check and browsing. Input is the registry id. */
export function createHarborRegistryActivities(deps: HarborRegistryActivityDeps) {
  const registries = deps.store.harborRegistries;

  /** Loads the registry and opens its secret here, in the worker: the secret never enters a workflow. */
  async function open(id: string): Promise<{ driver: HarborDriver; url: string }> {
    const rec = await registries.sealed(id);
    if (!rec) throw nonRetryable(`no registry ${id}`, HARBOR_REGISTRY_FAILURES.notFound);
    if (!deps.credentials) throw nonRetryable('the worker has no credentials key (EDGEPORT_CREDENTIALS_KEY)', HARBOR_REGISTRY_FAILURES.credentialsUnreadable);
    let password: string;
    try {
      password = deps.credentials.open(rec.secret, harborRegistrySecretAad(id));
    } catch (err) {
      if (err instanceof CredentialsUnreadableError) throw nonRetryable(`registry ${id}: ${err.message}`, HARBOR_REGISTRY_FAILURES.credentialsUnreadable);
      throw err;
    }
    return {
      driver: harborDriver({
        url: rec.url,
        username: rec.username,
        password,
        timeoutMs: REQUEST_TIMEOUT_MS,
        ...(deps.harborFetch ? { fetch: deps.harborFetch } : {}),
      }),
      url: rec.url,
    };
  }

  return {
    /** The save check: lists the projects with the stored credentials and records the outcome on the registry. */
    async checkHarborRegistry(args: { registryId: string }): Promise<HarborRegistryCheckResult> {
      const { driver, url } = await open(args.registryId);
      const t0 = performance.now();
      let projectCount: number;
      try {
        projectCount = (await driver.listProjects()).length;
      } catch (err) {
        throw failed(err, args.registryId, url);
      }
      const checkMs = Math.round(performance.now() - t0);
      await registries.recordCheck(args.registryId, { projectCount, checkMs, checkedAt: new Date() });
      return { projectCount, checkMs };
    },

    /** One level of the registry: projects; a project's repositories; a repository's tags with the pull command. */
    async browseHarborRegistry(args: { registryId: string } & BrowseHarborQuery): Promise<HarborBrowseResult> {
      const { driver, url } = await open(args.registryId);
      const host = new URL(url).host;
      try {
        if (args.repository !== undefined) {
          const tags = await driver.listTags(args.repository);
          return {
            level: 'tags',
            repository: args.repository,
            tags: tags.map((tag) => ({ tag, pullCommand: `docker pull ${host}/${args.repository}:${tag}` })),
          };
        }
        if (args.project !== undefined) {
          try {
            return { level: 'repositories', project: args.project, repositories: await driver.listRepositories(args.project) };
          } catch (err) {
            if (err instanceof RegistryNotFound)
              throw nonRetryable(`registry ${args.registryId} has no project ${args.project}`, HARBOR_REGISTRY_FAILURES.browseNotFound);
            throw err;
          }
        }
        return { level: 'projects', projects: await driver.listProjects() };
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw failed(err, args.registryId, url);
      }
    },
  };
}
