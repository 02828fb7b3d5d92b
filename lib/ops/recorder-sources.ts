/**
 * Where `ops trace` and `ops reconcile` get their sources: the deployment (AWS, from the stack
 * outputs) or, with `--local`, the pipeline `npm start` runs. The commands take a factory for each,
 * so the local recorder plugs in without either command knowing how it is read.
 */
import type { RecorderSources, TrackedTarget } from '../recorder/sources';
import { awsRecorderSources } from './recorder-aws-sources';
import { localRecorderSources } from './recorder-local-sources';
import { refuseOptions, UsageError, type OptionValues } from './command';
import { regionOption, stageOption, type OpsRuntime } from './aws-runtime';

export interface SourcesRequest {
  /** The targets the command follows (recovery delivers to these only). */
  readonly targets: readonly TrackedTarget[];
  readonly options: OptionValues;
}

export type SourcesFactory = (request: SourcesRequest) => Promise<RecorderSources>;

export interface RecorderSourceFactories {
  readonly aws: SourcesFactory;
  /** `--local`; absent until the local recorder provides one. */
  readonly local?: SourcesFactory;
}

export function awsSourcesFactory(runtime: OpsRuntime): SourcesFactory {
  return async ({ targets, options }) => awsRecorderSources(runtime, { stage: stageOption(options), region: regionOption(options), targets });
}

/** `--local`: the pipeline `npm start` runs (lib/ops/recorder-local-sources.ts). */
export const localSourcesFactory: SourcesFactory = async () => localRecorderSources();

/** What the commands use unless a test injects its own. */
export function defaultSourceFactories(runtime: OpsRuntime): RecorderSourceFactories {
  return { aws: awsSourcesFactory(runtime), local: localSourcesFactory };
}

/** Validates the mode options before any source is built, so bad input never reaches AWS. */
export function sourcesFor(factories: RecorderSourceFactories, options: OptionValues): SourcesFactory {
  if (options.local !== true) {
    stageOption(options);
    regionOption(options);
    return factories.aws;
  }
  refuseOptions(options, ['stage', 'region'], '--local', 'it reads the pipeline `npm start` runs');
  if (factories.local === undefined) throw new UsageError('--local is not available in this version');
  return factories.local;
}
