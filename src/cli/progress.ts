// Progress reporting on stderr: a redrawn bar with rate and ETA on a terminal,
// plain periodic lines otherwise (logs and CI should not fill with redraws).

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Number of steps; omit when unknown (no bar, no ETA). */
  total?: number;
  label?: string;
  /** Unit for the rate, default 'it'. */
  unit?: string;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Minimum time between plain lines when not on a TTY, default 2000 ms. */
  intervalMs?: number;
  /** Clock in ms, default performance.now (injectable for tests). */
  now?: () => number;
}

const REDRAW_MS = 100;

/** 75 -> '1:15', 3725 -> '1:02:05'. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`;
}

function formatRate(perSecond: number): string {
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond >= 1 ? perSecond.toFixed(1) : perSecond.toPrecision(2);
}

export class Progress {
  private done = 0;
  private finished = false;
  private readonly start: number;
  private lastDraw = -Infinity;
  private readonly tty: boolean;
  private readonly stream: ProgressStream;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions = {}) {
    if (options.total !== undefined && !(Number.isInteger(options.total) && options.total >= 0)) {
      throw new Error(`Progress: total must be a non-negative integer, got ${options.total}`);
    }
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** Advances by n steps and redraws when due. */
  tick(n = 1): void { this.update(this.done + n); }

  /** Sets the number of completed steps and redraws when due. */
  update(done: number): void {
    if (this.finished) throw new Error(`Progress${this.options.label ? ` '${this.options.label}'` : ''}: update after finish()`);
    this.done = done;
    const t = this.now();
    if (t - this.lastDraw >= (this.tty ? REDRAW_MS : this.options.intervalMs ?? 2000)) {
      this.lastDraw = t;
      this.draw(t, false);
    }
  }

  /** Prints the final state (always) and ends the line. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.draw(this.now(), true);
  }

  private draw(t: number, final: boolean): void {
    const { total, label, unit = 'it' } = this.options;
    const elapsed = (t - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const prefix = label ? `${label} ` : '';
    const count = total !== undefined ? `${this.done}/${total}` : `${this.done}`;
    const rateText = `${formatRate(rate)} ${unit}/s`;
    let line: string;
    if (final) {
      line = `${prefix}done ${count} in ${formatDuration(elapsed)} (${rateText})`;
    } else if (total !== undefined && total > 0) {
      const fraction = Math.min(1, this.done / total);
      const eta = rate > 0 ? formatDuration((total - this.done) / rate) : '?';
      const percent = `${(100 * fraction).toFixed(0).padStart(3)}%`;
      if (this.tty) {
        const barWidth = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - prefix.length - 50));
        const filled = Math.round(fraction * barWidth);
        line = `${prefix}[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${percent} ${count} ${rateText} ETA ${eta}`;
      } else {
        line = `${prefix}${count} (${percent.trim()}) ${rateText}, ETA ${eta}`;
      }
    } else {
      line = `${prefix}${count} ${rateText}, ${formatDuration(elapsed)} elapsed`;
    }
    // On a TTY, return to column 0 and clear the line before redrawing.
    this.stream.write(this.tty ? `\r\x1b[2K${line}${final ? '\n' : ''}` : `${line}\n`);
  }
}
