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
    ['DedupeTable', [{ AttributeName: 'eventId', KeyType: 'HASH' }], 'expiresAt'],
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
    expect(dataResources).toHaveLength(7);
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
  describe('the claim-check body bucket', () => {
    const bucket = () => {
      const buckets = Object.entries(synthesized.templates.stateful.findResources('AWS::S3::Bucket')).filter(([logicalId]) => logicalId.startsWith('BodyBucket'));
      expect(buckets).toHaveLength(1);
      return buckets[0] as [string, { Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }];
    };

    it('encrypts every object at rest (SSE-S3)', () => {
      synthesized.templates.stateful.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      });
    });

    it('blocks every form of public access', () => {
      synthesized.templates.stateful.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      });
    });

    it('denies any request that is not over TLS', () => {
      const [logicalId] = bucket();
      synthesized.templates.stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('keeps bodies for the archive retention plus the 14 days a dead letter can wait', () => {
      synthesized.templates.stateful.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: { Rules: [Match.objectLike({ Status: 'Enabled', ExpirationInDays: 44 })] },
      });
      const { templates } = synthesize({ archiveRetentionDays: '90' });
      templates.stateful.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 104 })] },
      });
    });

    it('is retained when the stack is deleted', () => {
      const [, resource] = bucket();
      expect(resource.DeletionPolicy).toBe('Retain');
      expect(resource.UpdateReplacePolicy).toBe('Retain');
    });

    it('outputs its name', () => {
      synthesized.templates.stateful.hasOutput('BodyBucketName', { Value: { Ref: bucket()[0] } });
    });
  });
});
