import { describe, expect, it } from 'vitest';
import { renderDefinition, routeConstructId, routeLogicalIdPrefix, routeOfConstructPath } from '../lib/synthesized-template';

describe('reading synthesized templates', () => {
  it('derives the logical-id prefix CDK gives a route from its construct id', () => {
    expect(routeConstructId('large-media')).toBe('Route-large-media');
    expect(routeLogicalIdPrefix('large-media')).toBe('Routelargemedia');
  });

  it.each([
    ['dev-fastio-routing/Route-documents/Rule/Resource', { route: 'documents', rest: 'Rule/Resource' }],
    ['dev-fastio-routing/Route-untrusted-agent-deletions/ReviewWorkflow/StateMachine/Resource', { route: 'untrusted-agent-deletions', rest: 'ReviewWorkflow/StateMachine/Resource' }],
    ['dev-fastio-routing/ReviewTopic/Resource', undefined],
    ['dev-fastio-routing/Route-documents', undefined],
    [undefined, undefined],
  ])('finds the route of construct path %s', (path, expected) => {
    expect(routeOfConstructPath(path)).toEqual(expected);
  });

  it('renders an Fn::Join definition with readable placeholders for tokens', () => {
    const definition = renderDefinition({
      'Fn::Join': ['', ['{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"', { 'Fn::GetAtt': ['Queue', 'Arn'] }, '","QueueUrl":"', { Ref: 'Queue' }, '","End":true}}}']],
    });
    expect(definition.States.A).toEqual({ Type: 'Task', Resource: '${Queue.Arn}', QueueUrl: '${Queue}', End: true });
  });
});
