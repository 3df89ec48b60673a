import type { ImageRepositoryView } from '@common/images';
import { http, request } from './http.ts';

/** A browsing category (platform-wide when `vdcId` is null) with the repositories the caller may pull. */
export interface ImageCategory {
  id: string;
  name: string;
  vdcId: string | null;
  repositories: string[];
}

/** Repositories and tags the caller may pull (every VDC's they see, and public). Quiet: views show their own error state. */
export function listImages(vdcId?: string): Promise<{ items: ImageRepositoryView[] }> {
  return http.get('/api/images', { quiet: true, ...(vdcId ? { query: { vdcId } } : {}) });
}

export function listCategories(): Promise<{ items: ImageCategory[] }> {
  return http.get('/api/images/categories', { quiet: true });
}

export function createCategory(name: string, vdcId?: string): Promise<ImageCategory> {
  return http.post('/api/images/categories', { name, ...(vdcId ? { vdcId } : {}) }, { quiet: [400, 403, 409] });
}

export function renameCategory(id: string, name: string): Promise<ImageCategory> {
  return request(`/api/images/categories/${encodeURIComponent(id)}`, { method: 'PATCH', body: { name }, quiet: [400, 403, 404, 409] });
}

export function deleteCategory(id: string): Promise<void> {
  return request(`/api/images/categories/${encodeURIComponent(id)}`, { method: 'DELETE', quiet: [403, 404] });
}

export function setRepositoryCategories(repository: string, categoryIds: string[]): Promise<{ items: ImageCategory[] }> {
  return request('/api/images/repository-categories', { method: 'PUT', body: { repository, categoryIds }, quiet: [400, 404] });
}

/** Deletes a tag (on the local registry: the manifest it points to, with its other tags). */
export function deleteImageTag(repository: string, tag: string): Promise<void> {
  return request('/api/images/tags', { method: 'DELETE', query: { repository, tag }, quiet: [404] });
}
