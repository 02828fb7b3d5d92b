/**
 * The workflows of your own, by the name a route's `{ kind: 'workflow', workflow: '<name>' }` uses.
 * Add one here and it can be routed to; every one gets logging, tracing and the failure queue
 * (./workflow-support.ts).
 */
import { reviewWorkflow } from './review-workflow';
import type { WorkflowDefinition } from './workflow-support';

export const workflows: Readonly<Record<string, WorkflowDefinition>> = {
  review: reviewWorkflow,
};

export const WORKFLOW_NAMES: readonly string[] = Object.keys(workflows);

export type { WorkflowDefinition, WorkflowProps } from './workflow-support';
