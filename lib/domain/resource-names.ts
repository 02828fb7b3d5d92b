/**
 * Names the stacks give a route's resources that are not stack outputs or construct ids (those are in
 * lib/stack-outputs.ts and lib/synthesized-template.ts): physical names, alarm names, policy Sids.
 * The stacks name through these functions and the route table validation (route-validation.ts)
 * checks through the same ones that no two routes or targets end up with one name.
 */
import type { DeadLetterRole } from '../constructs/secure-queue';
import { DEAD_LETTER_KEYS } from '../stack-outputs';

/** The state machine name of a route's own workflow target; the default target keeps the route's name. */
export function stateMachineNameOf(stackName: string, routeName: string, targetName: string): string {
  return targetName === 'workflow' ? `${stackName}-${routeName}` : `${stackName}-${routeName}-${targetName}`;
}

/**
 * The alarms the monitoring stack gives one target, by what they watch: dead-letter alarms by
 * their queue's role, and the two of the target's own rule (EventBridge counts per rule).
 */
export type TargetAlarm = 'buffer' | 'consumer' | 'workflow' | 'failed-invocations' | 'dlq-delivery-failed' | DeadLetterRole;
export const TARGET_ALARMS: readonly TargetAlarm[] = [
  'buffer',
  'consumer',
  'workflow',
  'failed-invocations',
  'dlq-delivery-failed',
  ...(Object.keys(DEAD_LETTER_KEYS) as DeadLetterRole[]),
];

/** The alarm name (after the stage prefix) of one of a target's alarms, e.g. `video-uploads-slack-target-dlq`. */
export function targetAlarmName(routeName: string, targetName: string, alarm: TargetAlarm): string {
  return `${routeName}-${targetName}-${alarm}`;
}

/** The Sid of the statement that lets one route's rule deliver to a destination's resource policy. */
export function ruleStatementSid(routeName: string, targetName: string): string {
  return `AllowRule${routeName.replace(/[^A-Za-z0-9]/g, '')}${targetName.replace(/[^A-Za-z0-9]/g, '')}`;
}

/**
 * How hints (the CLI's usage lines, alarm descriptions) tell a person to run the operator CLI: as
 * README does, `npm run -s` (no npm banner above the output, so a copied command's output is only the command's).
 */
export const OPS_COMMAND = 'npm run -s ops --';
