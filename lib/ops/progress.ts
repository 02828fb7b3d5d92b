/**
 * A progress bar on stderr for long work (replays, redrives, reconcile's reads). On a terminal it
 * redraws in place; otherwise (CI logs, pipes) it prints only the finished bar of each piece of work,
 * a summary line, so a log or a pipe is not filled with intermediate states.
 *
 * CommandIo writes whole lines, so redrawing moves the cursor up one line and clears it first.
 */
import type { CommandIo } from './command';

const UP_AND_CLEAR = '\x1b[1A\x1b[2K';
const BAR_WIDTH = 30;

/** `[#########---------------------]  30%`; an unknown fraction shows an empty bar and `?`. */
export function renderBar(fraction: number | undefined): string {
  if (fraction === undefined || !Number.isFinite(fraction)) return `[${'-'.repeat(BAR_WIDTH)}]    ?`;
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * BAR_WIDTH);
  const percent = `${Math.floor(clamped * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${percent}`;
}

export class Progress {
  private barShown = false;

  constructor(
    private readonly io: CommandIo,
    private readonly label: string,
  ) {}

  /** Draws the bar with a detail text such as `3/10 moved 2 failed 1`. */
  update(fraction: number | undefined, detail: string): void {
    const line = `${this.label} ${renderBar(fraction)} ${detail}`.trimEnd();
    if (!this.io.interactive) {
      if (fraction !== undefined && fraction >= 1) this.io.err(line);
      return;
    }
    this.io.err(this.barShown ? `${UP_AND_CLEAR}${line}` : line);
    this.barShown = true;
  }

  /** Prints a line above the bar without breaking it (the bar is redrawn on the next update). */
  note(line: string): void {
    if (this.io.interactive && this.barShown) {
      this.io.err(`${UP_AND_CLEAR}${line}`);
      this.barShown = false;
    } else {
      this.io.err(line);
    }
  }
}
