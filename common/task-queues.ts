/** Temporal task queue that runs ticket workflows and their activities. */
export const TICKETS_TASK_QUEUE = 'edgeport-tickets';
