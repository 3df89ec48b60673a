import type { Quota, SpacePreview } from './tickets.ts';
import type { TicketWorkflowInput, TicketWorkflowResult, TicketWorkflowState } from './ticket-workflow.ts';

/** Workflow type name of application space tickets (create and delete), as the API starts it. */
export const APPLICATION_SPACE_WORKFLOW = 'applicationSpaceWorkflow';

export interface SpaceRef {
  /** The space's name within its VDC (a DNS label). */
  name: string;
  /** Its namespace, `<vdcId>-<name>`. */
  namespace: string;
}

export interface ApplicationSpaceInput extends TicketWorkflowInput {
  action: 'create' | 'delete';
  space: SpaceRef & {
    /** Tenant labels (create only); Edgeport's own labels are added by the activity. */
    labels: Record<string, string>;
  };
}

export type ApplicationSpaceState = TicketWorkflowState<SpacePreview>;

export interface ApplicationSpaceResult extends TicketWorkflowResult {
  /** The quota applied to the new namespace (create). */
  quota?: Quota;
  /** The steps that ran, in order, and (after a failure) the compensations. */
  steps?: string[];
}

/**
 * Non-retryable failure types of the application space activities (business refusals). The workflow
 * ends `failed` when one is raised at preflight, `compensated` when one is raised by a later step.
 */
export const SPACE_ERRORS = {
  /** Create: a namespace of that name already exists and Edgeport's ticket did not make it. */
  nameTaken: 'SpaceNameTaken',
  /** Delete: the namespace does not exist. */
  notFound: 'SpaceNotFound',
  /** Delete: the namespace is not an Edgeport space of this VDC (labels differ). */
  notOwned: 'SpaceNotOwned',
  /** Delete: the namespace still holds workloads or volumes. */
  notEmpty: 'SpaceNotEmpty',
  /** Create: the VDC record is gone, so there is no quota to apply. */
  vdcMissing: 'VdcNotFound',
} as const;
