import type { ImageScanView } from './image-scan.ts';

/** Workflow type of registry operations outside tickets (on-demand scan, tag and repository deletion). */
export const IMAGE_OPERATION_WORKFLOW = 'imageOperationWorkflow';

export type ImageOperation =
  | { op: 'scan'; repository: string; reference: string }
  | { op: 'delete-tag'; repository: string; tag: string }
  | { op: 'delete-repository'; repository: string };

export type ImageOperationResult = { op: 'scan'; scan: ImageScanView } | { op: 'delete-tag' | 'delete-repository' };
