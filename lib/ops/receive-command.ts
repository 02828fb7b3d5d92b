/**
 * `receive --port <p> [--fail-first N | --status S]`: a loopback HTTPS receiver for http targets
 * (lib/local/receiver.ts) whose certificate the local pipeline with the same state directory trusts.
 * Runs until Ctrl-C, then prints the requests per Fast.io event id.
 */
import { localStateDir } from '../local/control-client';
import { ReceiverCertificateError, printable, startReceiver, type Receiver } from '../local/receiver';
import { OperationFailed, UsageError, integerOption, type CommandIo, type OpsCommand } from './command';

/** Statuses an HTTP server may answer with; 1xx are interim and cannot end a request. */
const STATUS_BOUNDS = { min: 200, max: 599 };

function summary(receiver: Receiver, io: CommandIo): void {
  const counts = receiver.counts();
  io.out(`received ${receiver.requests.length} request${receiver.requests.length === 1 ? '' : 's'} for ${counts.size} Fast.io event${counts.size === 1 ? '' : 's'}`);
  for (const [id, count] of counts) io.out(`  ${printable(id)}  ${count}`);
}

/** Resolves when the process is asked to stop (Ctrl-C or SIGTERM). */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function createReceiveCommand(stopped: () => Promise<void> = untilStopped): OpsCommand {
  return {
    path: ['receive'],
    summary: 'serve HTTPS on loopback for a local http target, print what arrives and count it per Fast.io event id (answers 200, --status S, or 503 for the first --fail-first N)',
    usage: '--port <p> [--fail-first <n> | --status <s>] [--json]',
    options: { port: { type: 'string' }, 'fail-first': { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean' } },
    async run({ options, io }) {
      const port = integerOption(options, 'port', { min: 1, max: 65_535 });
      if (port === undefined) throw new UsageError('--port is required: the port of the URL the http target was synthesized with');
      const failFirst = integerOption(options, 'fail-first', { min: 1, max: 1_000_000 });
      const status = integerOption(options, 'status', STATUS_BOUNDS);
      if (failFirst !== undefined && status !== undefined) throw new UsageError('--fail-first and --status are two behaviours: give one (--fail-first answers 503 to the first N requests, then 200)');
      let receiver: Receiver;
      try {
        receiver = await startReceiver({
          stateDir: localStateDir(),
          port,
          ...(failFirst === undefined ? {} : { failFirst }),
          ...(status === undefined ? {} : { status }),
          print: options.json === true ? () => undefined : io.out,
        });
      } catch (error) {
        if (error instanceof ReceiverCertificateError) throw new OperationFailed(error.message);
        const code = error instanceof Error && 'code' in error ? String(error.code) : '';
        if (code === 'EADDRINUSE') throw new OperationFailed(`port ${port} is in use on 127.0.0.1`);
        if (code === 'EACCES') throw new OperationFailed(`port ${port} needs privileges on this machine: pick one above 1023`);
        throw error;
      }
      const behaviour = failFirst === undefined ? `answering ${status ?? 200}` : `answering 503 to the first ${failFirst} request${failFirst === 1 ? '' : 's'}, then 200`;
      io.err(`receiving on ${receiver.url}/ (${behaviour}); the local pipeline with this state directory trusts its certificate. Ctrl-C stops.`);
      await stopped();
      await receiver.stop();
      if (options.json === true) io.out(JSON.stringify({ requests: receiver.requests, counts: Object.fromEntries(receiver.counts()) }, null, 2));
      else summary(receiver, io);
      return 0;
    },
  };
}

export const receiveCommand = createReceiveCommand();
