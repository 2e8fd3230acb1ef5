import type { DumpRestoreResult } from './dump-restore';

/** What the bot saw of one side of a dump→restore: a local child process or a remote one over SSH. */
export interface ProcessOutcome {
  spawnError?: Error;
  /** Remote only: the channel closed without an exit status (the connection is gone). */
  lost?: boolean;
  exit?: { code: number | null; signal: string | null; order: number };
  /** We stopped it (timeout, or the other side failed): its exit is a consequence, not a cause. */
  stoppedByUs: boolean;
}

export const succeeded = (s: ProcessOutcome): boolean => !s.spawnError && !s.lost && s.exit?.code === 0;

export function status(s: ProcessOutcome): string {
  if (s.spawnError) return `could not be started (${s.spawnError.message})`;
  if (s.lost) return 'ended without an exit status (SSH connection lost: outcome unknown)';
  if (s.exit?.signal) return `was killed by ${s.exit.signal}`;
  return `exited with code ${s.exit?.code ?? 'unknown'}`;
}

/** The lines that say what went wrong (pg_restore follows an error with the whole failed statement). */
export function lastLines(tail: string): string {
  const lines = tail.split('\n').filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => /error|fatal|denied|fail|unknown|not exist|not found/i.test(l));
  const text = (errors.length > 0 ? errors : lines).slice(-2).join(' | ');
  return text ? `: ${text.length > 400 ? '…' + text.slice(-400) : text}` : '';
}

export interface StreamFacts {
  bytes: number;
  timedOut: boolean;
  restoreEarly: boolean;
  pipeError?: Error;
  timeoutMs: number;
}

export interface Party {
  /** e.g. "dump of rls-1 (pg_dump)". */
  label: string;
  node: string;
  outcome: ProcessOutcome;
  stderrTail: string;
}

/** One sentence naming the cause first; the other side's fate follows as a consequence. Both modes use it. */
export function explainStream(
  f: StreamFacts,
  dump: Party,
  restore: Party,
): [DumpRestoreResult['cause'], string] {
  const d = dump.label;
  const t = restore.label;
  const partial = f.bytes > 0 ? `; ${restore.node} may hold a partial restore` : '';
  const streamed = `${f.bytes} bytes`;
  if (f.timedOut)
    return [
      'timeout',
      `timed out after ${f.timeoutMs} ms with ${streamed} streamed; stopped the ${d} and the ${t}${partial}`,
    ];
  const restoreFailed = (!succeeded(restore.outcome) || f.restoreEarly) && !restore.outcome.stoppedByUs;
  // A dump that died of SIGPIPE lost its reader: the restore's failure is the cause.
  const brokenPipe = restoreFailed && /^(SIG)?PIPE$/.test(dump.outcome.exit?.signal ?? '');
  const dumpFailed = !succeeded(dump.outcome) && !dump.outcome.stoppedByUs && !brokenPipe;
  const dumpFirst = !restoreFailed || (dump.outcome.exit?.order ?? 0) < (restore.outcome.exit?.order ?? 0);
  const dumpFate = dump.outcome.stoppedByUs || !dump.outcome.exit ? 'was stopped' : status(dump.outcome);
  const restoreFate = restore.outcome.stoppedByUs ? 'was stopped' : status(restore.outcome);
  const dumpStory = `${d} did not complete: it ${status(dump.outcome)} after ${streamed}${lastLines(dump.stderrTail)}`;
  if (dumpFailed && dumpFirst) return ['dump', `${dumpStory}; the ${t} ${restoreFate}${partial}`];
  if (restoreFailed) {
    const early = f.restoreEarly ? ` before consuming the whole dump (${streamed} streamed)` : '';
    const why = `it ${status(restore.outcome)}${early}${lastLines(restore.stderrTail)}`;
    return ['restore', `${t} failed: ${why}; the ${d} ${dumpFate}${partial}`];
  }
  if (f.pipeError)
    return [
      'stream',
      `the stream from ${dump.node} to ${restore.node} broke: ${f.pipeError.message}${partial}`,
    ];
  return ['dump', dumpStory];
}
