import { ImagePublishRequestSchema } from '../image-publish.ts';
import { defineTicketType } from './kit.ts';

/** The `image-publish` ticket type (its body is defined beside the rest of its contract). */
export const IMAGE_PUBLISH = defineTicketType({
  type: 'image-publish',
  schema: ImagePublishRequestSchema,
  previewKind: 'image-publish',
  cancelWindow: 'until-decided',
  labels: { en: 'Publish image', 'zh-CN': '发布镜像' },
});
