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

/** The claim-check bucket's name and its object keys, as the templates spell them. */
export const BODY_BUCKET_NAME = { 'Fn::Join': ['', ['dev-fastio-bodies-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]] };
export const BODY_OBJECTS_ARN = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::dev-fastio-bodies-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }, '/bodies/sha256/*']],
};

export { renderDefinition, routeLogicalIdPrefix as routeIdFragment } from '../../lib/synthesized-template';
