import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize, type SynthesizedApp } from './synthesize';

describe('StatefulStack', () => {
  let synthesized: SynthesizedApp;
  beforeAll(() => {
    synthesized = synthesize();
  });

  it('creates a custom event bus named after the stage', () => {
    synthesized.templates.stateful.hasResourceProperties('AWS::Events::EventBus', { Name: 'dev-fastio' });
  });

  it('archives every event from the ingest source with the configured retention', () => {
    synthesized.templates.stateful.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: 'dev-fastio-all',
      EventPattern: { source: ['fastio'] },
      RetentionDays: 30,
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventBus'), 'Arn'] },
    });
  });

  it('takes the archive retention from -c archiveRetentionDays', () => {
    // GIVEN a context override as the CLI passes it: a string
    const { templates } = synthesize({ archiveRetentionDays: '21' });
    // THEN
    templates.stateful.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 21 });
  });

  it('creates the signing secret with a generated placeholder and no value in the template', () => {
    const secrets = synthesized.templates.stateful.findResources('AWS::SecretsManager::Secret');
    expect(Object.values(secrets)).toHaveLength(1);
    const [secret] = Object.values(secrets);
    expect(secret?.Properties).toMatchObject({
      Name: 'dev/fastio/webhook-signing-secret',
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
    expect(secret?.Properties).not.toHaveProperty('SecretString');
  });

  it('imports the signing secret by ARN when signingSecretArn is set', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fastio/signing-AbCdEf';
    const { templates } = synthesize({ signingSecretArn: arn });
    templates.stateful.resourceCountIs('AWS::SecretsManager::Secret', 0);
    templates.stateful.hasOutput('SigningSecretArn', { Value: arn });
  });

  it.each([
    ['CatalogTable', [{ AttributeName: 'workspaceId', KeyType: 'HASH' }, { AttributeName: 'fileId', KeyType: 'RANGE' }], undefined],
    ['AuditTable', [{ AttributeName: 'agentId', KeyType: 'HASH' }, { AttributeName: 'occurredAtEventId', KeyType: 'RANGE' }], 'expiresAt'],
    ['IdempotencyTable', [{ AttributeName: 'id', KeyType: 'HASH' }], 'expiration'],
  ])('creates %s with its keys, TTL, PITR and on-demand billing', (logicalPrefix, keySchema, ttlAttribute) => {
    const tables = synthesized.templates.stateful.findResources('AWS::DynamoDB::GlobalTable');
    const entry = Object.entries(tables).find(([logicalId]) => logicalId.startsWith(logicalPrefix));
    expect(entry, `table ${logicalPrefix}`).toBeDefined();
    const properties = entry?.[1].Properties;
    expect(properties.KeySchema).toEqual(keySchema);
    expect(properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(properties.Replicas[0].PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(properties.Replicas[0].DeletionProtectionEnabled).toBe(true);
    if (ttlAttribute) {
      expect(properties.TimeToLiveSpecification).toEqual({ AttributeName: ttlAttribute, Enabled: true });
    } else {
      expect(properties.TimeToLiveSpecification).toBeUndefined();
    }
  });

  it('retains every data-holding resource on stack deletion', () => {
    const template = synthesized.templates.stateful.toJSON() as { Resources: Record<string, { Type: string; DeletionPolicy?: string }> };
    const dataTypes = ['AWS::Events::EventBus', 'AWS::Events::Archive', 'AWS::SecretsManager::Secret', 'AWS::DynamoDB::GlobalTable'];
    const dataResources = Object.entries(template.Resources).filter(([, resource]) => dataTypes.includes(resource.Type));
    expect(dataResources).toHaveLength(6);
    for (const [logicalId, resource] of dataResources) {
      expect(resource.DeletionPolicy, logicalId).toBe('Retain');
    }
  });

  it('exports the names and ARNs the operator CLI reads', () => {
    const outputs = Object.keys(synthesized.templates.stateful.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining(['EventBusName', 'EventBusArn', 'ArchiveName', 'ArchiveArn', 'SigningSecretArn', 'CatalogTableName', 'AuditTableName']),
    );
  });
});
