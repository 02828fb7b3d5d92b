/**
 * Reading the synthesized templates back: shared by the cost model, the tests and anything else
 * that must find a stack's template, a route's resources or a state machine's definition in `cdk.out`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The deployment's stacks, by the suffix of their names (`<stage>-fastio-<role>`, lib/config.ts stackNames). */
export type StackRole = 'stateful' | 'ingest' | 'routing' | 'monitoring';

/**
 * The template file of one of the deployment's stacks in a cloud assembly, found through its
 * manifest by stack name (whatever stage was synthesized); undefined when it is not there.
 */
export function stackTemplateFile(cdkOut: string, role: StackRole): string | undefined {
  const manifestFile = join(cdkOut, 'manifest.json');
  if (!existsSync(manifestFile)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const stackName = artifact.properties?.stackName ?? id;
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile || !stackName.endsWith(`-fastio-${role}`)) continue;
    const file = join(cdkOut, artifact.properties.templateFile);
    return existsSync(file) ? file : undefined;
  }
  return undefined;
}

/** The construct id of a route's chain in the routing stack. */
export function routeConstructId(routeName: string): string {
  return `Route-${routeName}`;
}

/** The construct id of a target inside its route's chain: `Route-<route>/Target-<target>/…`. */
export function targetConstructId(targetName: string): string {
  return `Target-${targetName}`;
}

/** CDK's logical-id prefix of a route's resources: `Route-documents` becomes `Routedocuments`. */
export function routeLogicalIdPrefix(routeName: string): string {
  return routeConstructId(routeName).replace(/[^A-Za-z0-9]/g, '');
}

/** CDK's logical-id prefix of a target's resources: `Route-documents/Target-queue` becomes `RoutedocumentsTargetqueue`. */
export function targetLogicalIdPrefix(routeName: string, targetName: string): string {
  return `${routeLogicalIdPrefix(routeName)}${targetConstructId(targetName).replace(/[^A-Za-z0-9]/g, '')}`;
}

/** `dev-fastio-routing/Route-documents/Rule/Resource` → { route: 'documents', rest: 'Rule/Resource' }. */
export function routeOfConstructPath(path: string | undefined): { route: string; rest: string } | undefined {
  const prefix = routeConstructId('');
  const [, routeSegment, ...rest] = (path ?? '').split('/');
  if (!routeSegment?.startsWith(prefix) || rest.length === 0) return undefined;
  const route = routeSegment.slice(prefix.length);
  return /^[a-z0-9-]+$/.test(route) ? { route, rest: rest.join('/') } : undefined;
}

export interface StateMachineDefinition {
  readonly StartAt: string;
  readonly States: Record<string, Record<string, any>>;
  readonly [field: string]: unknown;
}

/**
 * Renders a state machine's DefinitionString (an Fn::Join of literals and tokens) to the JSON
 * Step Functions would receive, with each token replaced by a readable placeholder string.
 */
export function renderDefinition(definitionString: unknown): StateMachineDefinition {
  if (typeof definitionString === 'string') return JSON.parse(definitionString);
  const [separator, parts] = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = part as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::ImportValue'?: string };
      if (ref.Ref) return `\${${ref.Ref}}`;
      if (ref['Fn::GetAtt']) return `\${${ref['Fn::GetAtt'].join('.')}}`;
      if (ref['Fn::ImportValue']) return `\${Import:${ref['Fn::ImportValue']}}`;
      return '${Token}';
    })
    .join(separator);
  return JSON.parse(text);
}
