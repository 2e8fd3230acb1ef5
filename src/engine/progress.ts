/**
 * Progress of a long step (a dump→restore of a large database): bytes so far, the rate, and an
 * ETA from the source's size. Reported at most every `everyMs`, so Slack gets a throttled
 * chat.update and the terminal a line now and then, never a flood.
 */
export interface StepProgress {
  bytes: number;
  /** The source's size when known (an estimate: a dump is not the same size as the tables). */
  totalBytes: number | null;
  bytesPerSecond: number;
  /** null without a size, or once past it. */
  etaMs: number | null;
  elapsedMs: number;
}

export const PROGRESS_EVERY_MS = 2000;

/** Turns raw byte counts into throttled StepProgress reports. */
export function progressReporter(
  report: (p: StepProgress) => void,
  options: { everyMs?: number; now?: () => number } = {},
): (bytes: number, totalBytes: number | null) => void {
  const now = options.now ?? (() => performance.now());
  const everyMs = options.everyMs ?? PROGRESS_EVERY_MS;
  const started = now();
  let last = started;
  return (bytes, totalBytes) => {
    const t = now();
    if (t - last < everyMs) return;
    last = t;
    const elapsedMs = t - started;
    const bytesPerSecond = elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0;
    const left = totalBytes !== null ? totalBytes - bytes : null;
    const etaMs = left !== null && left > 0 && bytesPerSecond > 0 ? (left * 1000) / bytesPerSecond : null;
    report({ bytes, totalBytes, bytesPerSecond, etaMs, elapsedMs });
  };
}

/** "120 MiB of ~400 MiB (30%), 35 MiB/s, about 8 s left" */
export function progressText(p: StepProgress): string {
  const parts = [`${size(p.bytes)}${p.totalBytes ? ` of ~${size(p.totalBytes)}` : ''}`];
  if (p.totalBytes) parts[0] += ` (${Math.min(99, Math.floor((p.bytes / p.totalBytes) * 100))}%)`;
  parts.push(`${size(p.bytesPerSecond)}/s`);
  if (p.etaMs !== null) parts.push(`about ${duration(p.etaMs)} left`);
  else parts.push(`${duration(p.elapsedMs)} so far`);
  return parts.join(', ');
}

function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
