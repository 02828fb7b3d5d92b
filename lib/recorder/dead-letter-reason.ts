/**
 * Why a dead letter is where it is, in one line, from the failure details its queue records
 * (lib/ops/dlq-commands.ts failureDetails on AWS, lib/local/dead-letters.ts locally): what trace,
 * reconcile and the recovery log say about it.
 */
import type { DeadLetterRole } from '../constructs/secure-queue';

export function deadLetterReason(details: Readonly<Record<string, string | undefined>>, role: DeadLetterRole): string {
  const join = (...parts: (string | undefined)[]) => parts.filter((part) => part !== undefined && part !== '').join(': ');
  switch (role) {
    case 'target-dlq':
    case 'recorder-dlq':
      return join(details.errorCode, details.errorMessage) || 'EventBridge could not deliver it';
    case 'buffer-dlq':
      return details.reason ?? 'the consumer failed it';
    case 'on-failure':
      return join(details.errorType ?? details.condition, details.errorMessage) || 'the function failed it';
    case 'workflow-failures':
      return join(details.error, details.cause) || 'the workflow failed it';
    case 'subscription-dlq':
      return 'SNS could not deliver it to a subscription';
  }
}
