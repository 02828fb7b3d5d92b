/**
 * The reliability pipeline with the shipped table's fan-out route complete: `video-uploads` with
 * its Slack target configured (as README's Slack section does) and every http target pointed at a
 * loopback receiver under `/<route>/<target>`, so the conservation check counts each http target's
 * deliveries by Idempotency-Key beside the catalog's writes.
 */
import { routeTable } from '../../lib/route-table';
import { startLoopbackReceiver, startReliabilityPipeline, type ReliabilityPipelineOptions, type RunningPipeline } from '../../lib/local/load-driver';
import { synthesizedAssembly } from '../local/synthesized-assembly';

/** The configuration README's Slack section gives; the URL is replaced by the receiver's after synth. */
const SLACK_CONTEXT = {
  slackWebhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXX',
  slackWebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-relay-AbCdEf',
};

export async function startFanOutPipeline(options: Omit<ReliabilityPipelineOptions, 'assemblyDir' | 'receiver'>): Promise<RunningPipeline> {
  const receiver = await startLoopbackReceiver();
  let pointed = 0;
  const assembly = synthesizedAssembly(
    routeTable,
    (routing) => {
      for (const resource of Object.values(routing.Resources)) {
        if (resource.Type !== 'AWS::Events::ApiDestination' || resource.Properties === undefined) continue;
        const path = String(resource.Metadata?.['aws:cdk:path'] ?? '');
        const owner = /\/Route-([a-z0-9-]+)\/Target-([a-z0-9-]+)\//.exec(path);
        if (owner === null) throw new Error(`an API destination outside a route target: ${path}`);
        resource.Properties.InvocationEndpoint = `${receiver.url}/${owner[1]}/${owner[2]}`;
        pointed += 1;
      }
    },
    SLACK_CONTEXT,
  );
  if (pointed === 0) throw new Error('the fan-out assembly synthesized no http target');
  try {
    const running = await startReliabilityPipeline({ ...options, assemblyDir: assembly.dir, receiver });
    return {
      ...running,
      async stop() {
        await running.stop();
        assembly.remove();
      },
    };
  } catch (error) {
    assembly.remove();
    await receiver.close();
    throw error;
  }
}
