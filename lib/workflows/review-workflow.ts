import { Duration, Validations } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { IMAGE_EXTENSIONS, VIDEO_EXTENSIONS } from '../route-table';
import { reviewGuardId } from '../domain/completion-records';
import { enteredMinuteEpochSeconds } from './clock';
import { EXPRESS_TIMEOUT, failurePath, type WorkflowDefinition, type WorkflowProps } from './workflow-support';

/** Errors worth retrying: throttling and service-side faults of the integrated services. */
export const TRANSIENT_ERRORS = [
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.RequestLimitExceeded',
  'DynamoDB.InternalServerErrorException',
  'SNS.ThrottledException',
  'SNS.InternalErrorException',
  'States.Timeout',
];

/**
 * The review guard: one item per Fast.io event and route in the idempotency table, written by the
 * workflow as its first effect and moved forward as the review progresses. It is also the
 * completion record `ops reconcile` can read: `GetItem { id: reviewGuardId(route, eventId) }`.
 */
export const REVIEW_GUARD = {
  /** STARTED (claimed, reviewers not yet told) → NOTIFIED (told) → COMPLETED (marked reviewed). */
  status: { started: 'STARTED', notified: 'NOTIFIED', completed: 'COMPLETED' },
  /** The fields each completed guard record carries besides `id` (`takenOverAt`, `releasedAt` when it happened). */
  attributes: ['status', 'owner', 'leaseUntil', 'expiration', 'route', 'eventId', 'workspaceId', 'fileId', 'detailType', 'claimedAt', 'notifiedAt', 'completedAt', 'classification'],
  /**
   * How long a claim is its owner's from the start of the minute it was made: more than an
   * Express execution can run (5 minutes) once the minute's truncation is taken off, so an owner
   * whose lease has ended has certainly stopped.
   */
  leaseSeconds: EXPRESS_TIMEOUT.toSeconds() + 120,
  /** The idempotency table's TTL attribute (epoch seconds): the claim's minute + the guard retention. */
  ttlAttribute: 'expiration',
} as const;

/** The guard record's partition key for one event on one route (shared with ops trace and reconcile). */
export { reviewGuardId };

/** The fields the workflow reads from the event; anything else is optional. */
const REQUIRED_FIELDS = [
  ['$.detail.eventId', 'detail.eventId'],
  ['$.detail.workspaceId', 'detail.workspaceId'],
  ['$.detail.fileId', 'detail.fileId'],
  ['$.detail-type', 'detail-type'],
] as const;

/**
 * An Express state machine that reviews one file event with direct service integrations only:
 * check the event has what the review needs, claim the event in the guard table, record it in
 * the catalog as pending, classify it by extension, notify reviewers, mark it reviewed. Transient
 * errors retry with backoff; anything else, an event it cannot review included, is caught into
 * the failure queue together with the execution's input, so nothing is lost and `ops dlq redrive`
 * can restart it.
 *
 * Idempotent per Fast.io event id and route: a resend, a replay or a redrive of an event that was
 * already reviewed ends SUCCEEDED without touching anything, and a redrive of a failed review
 * redoes only the steps its guard record does not show as done.
 */
export const reviewWorkflow: WorkflowDefinition = {
  // It never waits for anyone: seconds of DynamoDB and SNS calls, priced per start and duration
  // instead of per state transition. What Standard gave (exactly-once starts, DescribeExecution of
  // a claim's owner, redrive) the guard's lease and the failure queue provide.
  type: 'express',
  description: 'Reviews one file event: claim it, record it as pending, classify it, notify reviewers, mark it reviewed.',
  define: defineReviewStates,
  finish: grantReviewExtras,
};

function defineReviewStates(scope: Construct, props: WorkflowProps): sfn.IChainable {
  const { status, leaseSeconds } = REVIEW_GUARD;
  const str = (path: string) => tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(path));
  const epochAfter = (seconds: number) => tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.format('{}', sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.clock.epoch'), seconds)));
  const now = str('$$.State.EnteredTime');
  const me = str('$$.Execution.Id');
  const leaseUntil = epochAfter(leaseSeconds);
  const expiration = epochAfter(props.guardRetentionDays * 86_400);

  // ---- what the review needs ------------------------------------------------------------------
  // A missing path in a task's parameters is States.Runtime, which no Catch catches: the execution
  // would fail with its input nowhere (an Express execution has no history). So every path the
  // tasks read is checked here first, and an event without them goes to the failure queue with the reason.
  const usable = (path: string) => sfn.Condition.and(sfn.Condition.isPresent(path), sfn.Condition.isString(path), sfn.Condition.not(sfn.Condition.stringEquals(path, '')));

  const fileKey = {
    workspaceId: str('$.detail.workspaceId'),
    fileId: str('$.detail.fileId'),
  };
  const guardKey = {
    id: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format(`${reviewGuardId(props.routeName, '')}{}`, sfn.JsonPath.stringAt('$.detail.eventId'))),
  };
  const guardNames = { '#status': 'status', '#owner': 'owner' };
  const guardTask = { table: props.guardTable, key: guardKey };

  // The minute this execution started, as epoch seconds: what leases are set from and compared with.
  const readClock = new sfn.Pass(scope, 'ReadClock', {
    parameters: { 'epoch.$': enteredMinuteEpochSeconds() },
    resultPath: '$.clock',
  });

  // ---- the guard --------------------------------------------------------------------------------
  // The first effect is a create-only write: of two arrivals of one event (EventBridge's
  // at-least-once start of an Express workflow, a Fast.io resend after a lost 202, a replay, a
  // redrive), exactly one claims it, with a lease and an expiry.
  const claim = new tasks.DynamoPutItem(scope, 'ClaimEvent', {
    table: props.guardTable,
    item: {
      ...guardKey,
      status: tasks.DynamoAttributeValue.fromString(status.started),
      owner: me,
      leaseUntil,
      expiration,
      route: tasks.DynamoAttributeValue.fromString(props.routeName),
      eventId: str('$.detail.eventId'),
      workspaceId: str('$.detail.workspaceId'),
      fileId: str('$.detail.fileId'),
      detailType: str('$.detail-type'),
      claimedAt: now,
    },
    conditionExpression: 'attribute_not_exists(id)',
    resultSelector: { status: status.started },
    resultPath: '$.guard',
  });

  // The event was claimed before: by a review that completed, one that is still running, one that
  // failed (and released its claim), or one that stopped without a word (an Express timeout).
  const readClaim = new tasks.DynamoGetItem(scope, 'ReadClaim', {
    ...guardTask,
    consistentRead: true,
    resultPath: '$.claim',
  });

  // Who holds a claim is decided by its lease, in the condition itself: an Express execution cannot
  // ask Step Functions about another (no DescribeExecution), but it cannot outlive its lease either.
  // A live lease means the owner either completes the review or releases the claim and catches its
  // failure into the failure queue with this same event, so the newcomer can end. A released or
  // ended lease goes to whoever arrives next, and conditional on the owner read above, only to one.
  // Records without a lease were written by the Standard version, whose owners are long gone.
  const takeOver = new tasks.DynamoUpdateItem(scope, 'TakeOverClaim', {
    ...guardTask,
    updateExpression: 'SET #owner = :me, takenOverAt = :now, leaseUntil = :leaseUntil, #expiration = if_not_exists(#expiration, :expiration)',
    conditionExpression: '#owner = :stale AND #status <> :completed AND (attribute_not_exists(leaseUntil) OR leaseUntil < :clock)',
    expressionAttributeNames: { ...guardNames, '#expiration': REVIEW_GUARD.ttlAttribute },
    expressionAttributeValues: {
      ':me': me,
      ':now': now,
      ':leaseUntil': leaseUntil,
      ':expiration': expiration,
      ':clock': epochAfter(0),
      ':stale': str('$.claim.Item.owner.S'),
      ':completed': tasks.DynamoAttributeValue.fromString(status.completed),
    },
    returnValues: tasks.DynamoReturnValues.ALL_NEW,
    resultSelector: { status: sfn.JsonPath.stringAt('$.Attributes.status.S') },
    resultPath: '$.guard',
  });

  // On the failure path: the owner will not touch the review again, so whoever brings the event
  // next (the redrive of this failure) may take it over at once instead of after the lease.
  const releaseClaim = new tasks.DynamoUpdateItem(scope, 'ReleaseClaim', {
    ...guardTask,
    updateExpression: 'SET leaseUntil = :released, releasedAt = :now',
    conditionExpression: '#owner = :me AND #status <> :completed',
    expressionAttributeNames: guardNames,
    expressionAttributeValues: {
      ':released': tasks.DynamoAttributeValue.fromNumber(0),
      ':now': now,
      ':me': me,
      ':completed': tasks.DynamoAttributeValue.fromString(status.completed),
    },
    resultPath: sfn.JsonPath.DISCARD,
  });

  const advanceGuard = (stateId: string, to: string, extra: Record<string, tasks.DynamoAttributeValue> = {}) =>
    new tasks.DynamoUpdateItem(scope, stateId, {
      ...guardTask,
      updateExpression: ['SET #status = :to', `${to.toLowerCase()}At = :now`, ...Object.keys(extra).map((name) => `${name} = :${name}`)].join(', '),
      // Only the owner moves its claim forward; an owner that lost the claim fails instead.
      conditionExpression: '#owner = :me',
      expressionAttributeNames: guardNames,
      expressionAttributeValues: {
        ':to': tasks.DynamoAttributeValue.fromString(to),
        ':now': now,
        ':me': me,
        ...Object.fromEntries(Object.entries(extra).map(([name, value]) => [`:${name}`, value])),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
  const markNotified = advanceGuard('MarkNotified', status.notified);
  const markCompleted = advanceGuard('MarkCompleted', status.completed, { classification: str('$.classification') });

  // ---- the review -------------------------------------------------------------------------------
  const recordPending = new tasks.DynamoUpdateItem(scope, 'RecordPendingReview', {
    table: props.catalogTable,
    key: fileKey,
    updateExpression: 'SET reviewStatus = :pending, reviewEventId = :eventId, reviewRequestedAt = :now',
    expressionAttributeValues: {
      ':pending': tasks.DynamoAttributeValue.fromString('PENDING'),
      ':eventId': str('$.detail.eventId'),
      ':now': now,
    },
    resultPath: sfn.JsonPath.DISCARD,
  });

  const classify = (kind: string) =>
    new sfn.Pass(scope, `Classify${kind.charAt(0).toUpperCase()}${kind.slice(1)}`, {
      result: sfn.Result.fromString(kind),
      resultPath: '$.classification',
    });
  const isOneOf = (extensions: readonly string[]) =>
    sfn.Condition.or(...extensions.map((extension) => sfn.Condition.stringEquals('$.detail.extension', extension)));
  const hasExtension = sfn.Condition.and(sfn.Condition.isPresent('$.detail.extension'), sfn.Condition.isString('$.detail.extension'));

  const notify = new tasks.SnsPublish(scope, 'NotifyReviewers', {
    topic: props.notificationTopic,
    subject: 'Fast.io file needs review',
    message: sfn.TaskInput.fromObject({
      reason: sfn.JsonPath.stringAt('$.detail-type'),
      classification: sfn.JsonPath.stringAt('$.classification'),
      workspaceId: sfn.JsonPath.stringAt('$.detail.workspaceId'),
      fileId: sfn.JsonPath.stringAt('$.detail.fileId'),
      eventId: sfn.JsonPath.stringAt('$.detail.eventId'),
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });

  const markReviewed = new tasks.DynamoUpdateItem(scope, 'MarkReviewed', {
    table: props.catalogTable,
    key: fileKey,
    updateExpression: 'SET reviewStatus = :reviewed, reviewClassification = :classification, reviewedAt = :now',
    expressionAttributeValues: {
      ':reviewed': tasks.DynamoAttributeValue.fromString('REVIEWED'),
      ':classification': str('$.classification'),
      ':now': now,
    },
    resultPath: sfn.JsonPath.DISCARD,
  });

  // ---- the failure path ---------------------------------------------------------------------------
  const { sendToFailureQueue, catchAll } = failurePath(scope, props.failureQueue, 'ReviewFailed', {
    beforeSend: (send) => releaseClaim.next(send),
  });

  const conditionFailed = 'DynamoDB.ConditionalCheckFailedException';
  const reviewInProgress = new sfn.Succeed(scope, 'ReviewInProgress', { comment: 'Another execution holds the claim on this event and answers for it.' });
  // Waits of 1+2+4+8 s at most per task: the longest path (8 tasks, the release and the failure
  // queue's own retries) stays inside an Express execution's 5 minutes.
  const retry = { errors: TRANSIENT_ERRORS, interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 4, jitterStrategy: sfn.JitterType.FULL };
  for (const task of [claim, readClaim, takeOver, recordPending, notify, markNotified, markReviewed, markCompleted]) {
    task.addRetry(retry);
    // Catchers apply in order: these specific ones are added before the catch-all below.
    if (task === claim) task.addCatch(readClaim, { errors: [conditionFailed], resultPath: sfn.JsonPath.DISCARD });
    // The lease is live, the owner changed meanwhile or the review completed: not this execution's to do.
    if (task === takeOver) task.addCatch(reviewInProgress, { errors: [conditionFailed], resultPath: sfn.JsonPath.DISCARD });
    catchAll(task);
  }
  // A claim that is not this execution's (the failure came before it) or a release that fails
  // still leaves the send: the lease ends by itself.
  releaseClaim.addRetry(retry);
  releaseClaim.addCatch(sendToFailureQueue, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });

  // ---- the flow ---------------------------------------------------------------------------------
  // An event with every field the review reads is claimed (the first branch: the success path);
  // otherwise the first unusable field names the reason. When all but the last are usable, the
  // last is the one that is not, so the default branch rejects it and no branch is unreachable.
  const rejections = REQUIRED_FIELDS.map(([path, field]) => {
    const stateId = `Reject${field.replace(/^detail\./, '').replace(/(^|[-.])([a-z])/g, (_, __, letter: string) => letter.toUpperCase())}`;
    const reject = new sfn.Pass(scope, stateId, {
      // Replaces the state: the input may not even be an object, and the failure message takes the event from $$.Execution.Input.
      result: sfn.Result.fromObject({ failure: { Error: 'InvalidReviewInput', Cause: `${field} is missing, empty or not a string: the review needs it` } }),
    }).next(sendToFailureQueue);
    return { path, reject };
  });
  const validateInput = new sfn.Choice(scope, 'ValidateInput').when(sfn.Condition.and(...REQUIRED_FIELDS.map(([path]) => usable(path))), readClock.next(claim));
  for (const { path, reject } of rejections.slice(0, -1)) validateInput.when(sfn.Condition.not(usable(path)), reject);
  validateInput.otherwise((rejections.at(-1) as (typeof rejections)[number]).reject);

  const classifyThenNotify = new sfn.Choice(scope, 'ClassifyByExtension')
    .when(sfn.Condition.and(hasExtension, isOneOf(VIDEO_EXTENSIONS)), classify('video'))
    .when(sfn.Condition.and(hasExtension, isOneOf(IMAGE_EXTENSIONS)), classify('image'))
    .otherwise(classify('other'))
    .afterwards()
    .next(
      new sfn.Choice(scope, 'NotifiedAlready')
        .when(sfn.Condition.stringEquals('$.guard.status', status.started), notify.next(markNotified).next(markReviewed))
        // A redrive after the notification went out: reviewers were told, only the marking is left.
        .otherwise(markReviewed),
    );
  markReviewed.next(markCompleted);
  recordPending.next(classifyThenNotify);
  claim.next(recordPending);

  readClaim.next(
    new sfn.Choice(scope, 'ClaimStatus')
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.claim.Item.status.S'), sfn.Condition.stringEquals('$.claim.Item.status.S', status.completed)), new sfn.Succeed(scope, 'AlreadyReviewed', { comment: 'Reviewed before: nothing to redo.' }))
      .when(sfn.Condition.isPresent('$.claim.Item.owner.S'), takeOver)
      .otherwise(
        new sfn.Pass(scope, 'RejectUnreadableClaim', {
          result: sfn.Result.fromObject({ failure: { Error: 'ReviewGuardUnreadable', Cause: 'the event was claimed before, but its guard record has no owner to check' } }),
        }).next(sendToFailureQueue),
      ),
  );
  takeOver.next(
    new sfn.Choice(scope, 'ResumeFrom')
      .when(sfn.Condition.stringEquals('$.guard.status', status.started), recordPending)
      .otherwise(classifyThenNotify),
  );

  return validateInput;
}

function grantReviewExtras(stateMachine: sfn.StateMachine, props: WorkflowProps): void {
  // The SnsPublish task grants sns:Publish only; the topic's KMS key must also let the workflow encrypt.
  props.notificationTopic.grantPublish(stateMachine);
  Validations.of(stateMachine).acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason: 'What SNS needs to publish to a KMS-encrypted topic (GenerateDataKey and its WithoutPlaintext variant), scoped to the review topic key only.',
  });
}
