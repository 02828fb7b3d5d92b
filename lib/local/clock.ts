/**
 * Time for the local pipeline. Every wait that AWS would make (visibility timeouts, Lambda's async
 * retry delays, EventBridge's retry backoff, Step Functions retry intervals, the SQS batching
 * window) is given in AWS seconds from the template and divided by `timeScale` here, so the
 * defaults behave like the deployment (timeScale 1) and tests run the same flows in milliseconds.
 * Function timeouts are NOT scaled: real handler code runs in real time.
 */
export interface Clock {
  /** Wall-clock time (epoch ms) for timestamps: event time, SentTimestamp, archive records. */
  now(): number;
  /** Monotonic ms for deadlines. */
  monotonic(): number;
  /** 1 = as deployed; 1000 = a 180 s visibility timeout lasts 180 ms. */
  readonly timeScale: number;
  /** Real milliseconds that an AWS duration of `awsMs` takes locally. */
  scaled(awsMs: number): number;
  /** Waits an AWS duration; resolves early (without error) when `signal` aborts. */
  sleep(awsMs: number, signal?: AbortSignal): Promise<void>;
}

export interface ClockOptions {
  readonly timeScale?: number;
  readonly now?: () => number;
}

export function createClock(options: ClockOptions = {}): Clock {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`timeScale must be a positive number, got ${timeScale}`);
  const scaled = (awsMs: number) => Math.max(0, Math.round(awsMs / timeScale));
  return {
    now: options.now ?? Date.now,
    monotonic: () => performance.now(),
    timeScale,
    scaled,
    sleep(awsMs, signal) {
      return new Promise((resolve) => {
        if (signal?.aborted) {
          resolve();
          return;
        }
        const timer = setTimeout(done, scaled(awsMs));
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      });
    },
  };
}

/** Seconds for people: at most three decimals, no trailing zeros (60, 0.3, 0.018). */
export function seconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(3)));
}

/**
 * A wait as the terminal shows it: what the pipeline really sleeps and, under a time scale, the AWS
 * figure it stands for, e.g. `0.1 s (60 s at time-scale 600)`; `60 s` as deployed.
 */
export function describeWait(clock: Pick<Clock, 'timeScale' | 'scaled'>, awsMs: number): string {
  if (clock.timeScale === 1) return `${seconds(awsMs)} s`;
  return `${seconds(clock.scaled(awsMs))} s (${seconds(awsMs)} s at time-scale ${clock.timeScale})`;
}
