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

export { renderDefinition, routeLogicalIdPrefix as routeIdFragment } from '../../lib/synthesized-template';
