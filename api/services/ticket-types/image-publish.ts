import { publishRepositories } from '../../../common/image-publish.ts';
import { IMAGE_PUBLISH_WORKFLOW, type ImagePublishInput } from '../../../common/image-publish-workflow.ts';
import { IMAGE_PUBLISH } from '../../../common/ticket-types/image-publish.ts';
import { decideImagePublish } from '../../../policies/image-publish.ts';
import { baseInput, type TicketTypeDef } from './kit.ts';

export const imagePublishDef: TicketTypeDef<'image-publish'> = {
  spec: IMAGE_PUBLISH,
  decide: ({ payload, requesterRoles }) =>
    decideImagePublish({ visibility: payload.target.visibility, scanOverride: payload.scanOverride !== undefined, requesterRoles }),
  workflowType: IMAGE_PUBLISH_WORKFLOW,
  workflowInput: (t): ImagePublishInput => {
    const repos = publishRepositories(t.vdc.id, t.payload);
    return {
      ...baseInput(t),
      source: { repository: repos.source, tag: repos.sourceTag },
      target: { repository: repos.target, tag: repos.targetTag, visibility: t.payload.target.visibility },
      ...(t.payload.scanOverride ? { scanOverride: { reason: t.payload.scanOverride.reason } } : {}),
    };
  },
};
