/**
 * The reliability pipeline with the shipped table's fan-out route complete: `video-uploads` with
 * its Slack target configured (as README's Slack section does) and every http target pointed at a
 * loopback receiver under `/<route>/<target>`, so the conservation check counts each http target's
 * deliveries by Idempotency-Key beside the catalog's writes.
 */
import { routeTable } from '../../lib/route-table';
import { startLoopbackReceiver, startReliabilityPipeline, type ReliabilityPipelineOptions, type RunningPipeline } from '../../lib/local/load-driver';
import { SLACK_CONTEXT, httpTargetsAt, synthesizedAssembly } from '../local/synthesized-assembly';

export async function startFanOutPipeline(options: Omit<ReliabilityPipelineOptions, 'assemblyDir' | 'receiver'>): Promise<RunningPipeline> {
  const receiver = await startLoopbackReceiver();
  const assembly = synthesizedAssembly(routeTable, httpTargetsAt(receiver.url), SLACK_CONTEXT);
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
