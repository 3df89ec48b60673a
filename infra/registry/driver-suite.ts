import { describe, expect, it } from 'vitest';
import { RegistryNotFound, type RegistryDriver } from './driver.ts';

/** What each driver's test provides to the shared suite. */
export interface DriverSuiteContext {
  driver: RegistryDriver;
  /** Two namespaces unique to this run (e.g. `staging-<vdc>` and `vdc-<vdc>`). */
  source: string;
  target: string;
  /** Puts an image at `repository:tag` the way a push would (single platform, or an index per architecture). */
  seed(repository: string, tag: string, archs: string[]): Promise<{ digest: string }>;
}

/**
 * The operations every registry driver has, run against each driver (the local registry for real; Harbor
 * against its contract). `ctx` is filled in by the caller's beforeAll.
 */
export function registryDriverSuite(label: string, ctx: () => DriverSuiteContext): void {
  describe(`${label}: common driver operations`, () => {
    it('lists a pushed repository under its namespace with its tags', async () => {
      const { driver, source, seed } = ctx();
      const repo = `${source}/list`;
      await seed(repo, 'v1', ['amd64']);
      await seed(repo, 'v2', ['amd64']);
      expect(await driver.listRepositories(source)).toContain(repo);
      expect(await driver.listTags(repo)).toEqual(['v1', 'v2']);
      expect(await driver.listTags(`${source}/never-pushed`)).toEqual([]);
    });

    it('reads an image: digest, size, platform, tags; a multi-arch index lists each architecture', async () => {
      const { driver, source, seed } = ctx();
      const single = await seed(`${source}/single`, 'v1', ['amd64']);
      const img = await driver.getImage(`${source}/single`, 'v1');
      expect(img).toMatchObject({ digest: single.digest, multiArch: false, tags: ['v1'] });
      expect(img.size).toBeGreaterThan(0);
      expect(img.platforms).toEqual([expect.objectContaining({ os: 'linux', architecture: 'amd64', digest: single.digest })]);

      const multi = await seed(`${source}/multi`, 'v1', ['amd64', 'arm64', 'ppc64le']);
      const idx = await driver.getImage(`${source}/multi`, 'v1');
      expect(idx).toMatchObject({ digest: multi.digest, multiArch: true });
      expect(idx.platforms.map((p) => p.architecture).sort()).toEqual(['amd64', 'arm64', 'ppc64le']);
      expect(idx.platforms.every((p) => p.size > 0 && /^sha256:[0-9a-f]{64}$/.test(p.digest))).toBe(true);

      await expect(driver.getImage(`${source}/single`, 'nope')).rejects.toBeInstanceOf(RegistryNotFound);
    });

    it('copies an image by digest to another namespace, idempotently (index platforms included)', async () => {
      const { driver, source, target, seed } = ctx();
      const src = await seed(`${source}/copy`, 'v1', ['amd64', 'arm64']);
      const first = await driver.copyImage({ repository: `${source}/copy`, digest: src.digest }, { repository: `${target}/copy`, tag: 'v1' });
      expect(first.digest).toBe(src.digest);
      const again = await driver.copyImage({ repository: `${source}/copy`, digest: src.digest }, { repository: `${target}/copy`, tag: 'v1' });
      expect(again.digest).toBe(src.digest);
      const copied = await driver.getImage(`${target}/copy`, 'v1');
      expect(copied.digest).toBe(src.digest);
      expect(copied.platforms.map((p) => p.architecture).sort()).toEqual(['amd64', 'arm64']);
      expect(await driver.listRepositories(target)).toContain(`${target}/copy`);
    });

    it('deletes a tag and a repository; deleting what is gone is a no-op', async () => {
      const { driver, source, seed } = ctx();
      await seed(`${source}/del`, 'v1', ['amd64']);
      await seed(`${source}/del`, 'v2', ['arm64']);
      await driver.deleteTag(`${source}/del`, 'v1');
      expect(await driver.listTags(`${source}/del`)).toEqual(['v2']);
      await driver.deleteTag(`${source}/del`, 'v1');
      await driver.deleteRepository(`${source}/del`);
      expect(await driver.listTags(`${source}/del`)).toEqual([]);
      expect(await driver.listRepositories(source)).not.toContain(`${source}/del`);
      await driver.deleteRepository(`${source}/del`);
    });
  });
}
