import type { Template } from 'aws-cdk-lib/assertions';

export type Resources = Record<string, { Type: string; Properties: Record<string, unknown> & { [key: string]: any }; DeletionPolicy?: string }>;

/** Resources of one type whose logical id contains a fragment, e.g. the route's construct id. */
export function resourcesMatching(template: Template, type: string, idFragment: string): Resources {
  const found = template.findResources(type) as Resources;
  return Object.fromEntries(Object.entries(found).filter(([logicalId]) => logicalId.includes(idFragment)));
}

export function onlyResource(template: Template, type: string, idFragment: string): [string, Resources[string]] {
  const entries = Object.entries(resourcesMatching(template, type, idFragment));
  if (entries.length !== 1) throw new Error(`expected one ${type} with "${idFragment}" in its id, found ${entries.length}`);
  return entries[0] as [string, Resources[string]];
}

/** CDK's logical-id prefix of a route's chain: `Route-documents` becomes `Routedocuments`. */
export function routeIdFragment(routeName: string): string {
  return `Route${routeName.replace(/-/g, '')}`;
}

/**
 * Renders a state machine's DefinitionString (an Fn::Join of literals and tokens) to the JSON
 * Step Functions would receive, with each token replaced by a readable placeholder string.
 */
export function renderDefinition(definitionString: unknown): Record<string, any> {
  if (typeof definitionString === 'string') return JSON.parse(definitionString);
  const join = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = part as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::ImportValue'?: string };
      if (ref.Ref) return `\${${ref.Ref}}`;
      if (ref['Fn::GetAtt']) return `\${${ref['Fn::GetAtt'].join('.')}}`;
      if (ref['Fn::ImportValue']) return `\${Import:${ref['Fn::ImportValue']}}`;
      return '${Token}';
    })
    .join(join[0]);
  return JSON.parse(text);
}
