import { SingleBar } from 'cli-progress';
import ora, { type Ora } from 'ora';
import type { Job } from '../jobs/job-kinds.js';
import { percent } from './output.js';

/** Shows a job's progress while the CLI waits for it. */
export interface ProgressDisplay {
  update(job: Job): void;
  /** Clears what is live on the terminal; the caller prints the outcome. */
  stop(): void;
}

/** The right display for `stream`: live on a terminal, a line per change otherwise, nothing for --json. */
export function progressDisplay(stream: NodeJS.WriteStream, options: { json: boolean }): ProgressDisplay {
  if (options.json) return { update: () => undefined, stop: () => undefined };
  // A terminal of no width (a pty nobody sized) makes ora erase "infinitely many" lines per frame.
  return stream.isTTY && stream.columns > 0 ? new TerminalDisplay(stream) : new LineDisplay(stream);
}

/**
 * A spinner while the job waits or has said nothing of its progress, then a bar. ora and
 * cli-progress are told the stream is a terminal outright: ora alone would also check the CI
 * variable and fall silent on a terminal inside CI.
 */
class TerminalDisplay implements ProgressDisplay {
  private spinner: Ora | undefined;
  private bar: SingleBar | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(job: Job): void {
    const text = `${job.id} ${job.status}${job.progress.message ? ` ${job.progress.message}` : ''}`;
    if (job.status === 'running' && job.progress.fraction > 0) {
      this.spinner?.stop();
      this.spinner = undefined;
      if (!this.bar) {
        this.bar = new SingleBar({
          stream: this.stream,
          format: '{bar} {percentage}% | {text}',
          barCompleteChar: '█',
          barIncompleteChar: '░',
          hideCursor: true,
          clearOnComplete: true,
          forceRedraw: true,
        });
        this.bar.start(100, 0, { text });
      }
      this.bar.update(Math.round(job.progress.fraction * 100), { text });
      return;
    }
    if (this.bar) return;
    if (!this.spinner)
      this.spinner = ora({ stream: this.stream, isEnabled: true, discardStdin: false }).start(text);
    else this.spinner.text = text;
  }

  stop(): void {
    this.spinner?.stop();
    this.bar?.stop();
  }
}

/** One plain line per change: what a log file or a pipe can keep. */
class LineDisplay implements ProgressDisplay {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(job: Job): void {
    const message = job.progress.message ? ` ${job.progress.message}` : '';
    this.stream.write(`${job.id} ${job.status} ${percent(job.progress.fraction)}${message}\n`);
  }

  stop(): void {}
}
