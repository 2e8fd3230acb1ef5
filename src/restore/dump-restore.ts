import { clearFailedResult } from './clear-target';
import { explainStream, succeeded, type ProcessOutcome } from './outcome';
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlNode } from '../config/topology';
import { emptyResult } from '../runbook/sql-executor';
import type { StepResult } from '../runbook/types';
import { OutputTail, redact, TAIL_BYTES } from '../hosts/redact';
import { buildDumpRestore, clearScript, passwordFor, type ResolvedTools, type ToolCommand } from './commands';
import { statementTagger } from './tag-statements';
import { tiedToParent } from './tie-to-parent';

export interface DumpRestoreOptions {
  /** Where passwords are looked up (by each node's passwordEnv) and PATH comes from. */
  env: NodeJS.ProcessEnv;
  /** For the whole stream; past it both processes are stopped and the step fails. */
  timeoutMs: number;
  /** More strings to keep out of the tails and the error (node passwords always are). */
  secrets?: readonly string[];
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  tools?: ResolvedTools;
  /** The step's session tag (ExecContext.tag): on every session and statement of the target and source. */
  tag?: string;
  /**
   * Empty the target's schema before importing (default true): a retry after an attempt that was
   * cut off, leaving a partial import, then ends with exactly the source's contents.
   */
  clearTarget?: boolean;
  /** Test hooks: the child pids once spawned, and the byte count after every chunk. */
  onSpawn?: (pids: { dump: number | undefined; restore: number | undefined }) => void;
  onProgress?: (bytes: number) => void;
}

export interface SideResult {
  tool: string;
  argv: string[];
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
}

export interface DumpRestoreResult {
  ok: boolean;
  /** Bytes that went from the dump's stdout into the restore's stdin. */
  bytes: number;
  durationMs: number;
  timedOut: boolean;
  /** What failed first; the other side's fate is a consequence. Null when ok. */
  cause: 'dump' | 'restore' | 'stream' | 'timeout' | null;
  dump: SideResult;
  restore: SideResult & { stdoutTail: string };
  /** The client that emptied the target first; null when not asked to. */
  clear: SideResult | null;
  error: string | null;
}

interface Child extends ProcessOutcome {
  cmd: ToolCommand;
  proc: ChildProcess;
  stderr: OutputTail;
  stdout: OutputTail;
  spawnError?: Error;
  exit?: { code: number | null; signal: string | null; order: number };
  /** We stopped it (timeout, or the other side failed): its exit is a consequence, not a cause. */
  stoppedByUs: boolean;
  exited: Promise<void>;
  closed: Promise<void>;
  killTimer?: NodeJS.Timeout;
}

let exitCounter = 0;

function start(cmd: ToolCommand, stdin: 'pipe' | 'ignore', secrets: readonly string[]): Child {
  // No shell: argv goes to execve as is, so nothing in it is ever interpreted. Tied: it dies with us.
  const [file, ...args] = tiedToParent(cmd.argv, cmd.env.PATH) as [string, ...string[]];
  const proc = spawn(file, args, { env: cmd.env, stdio: [stdin, 'pipe', 'pipe'] });
  const child: Child = {
    cmd,
    proc,
    stderr: new OutputTail(TAIL_BYTES, secrets),
    stdout: new OutputTail(2048, secrets),
    stoppedByUs: false,
    exited: Promise.resolve(),
    closed: Promise.resolve(),
  };
  proc.stderr?.on('data', (c: Buffer) => child.stderr.push(c));
  // Streams a dead process leaves behind may still emit EPIPE; the exit status tells the story.
  proc.stdin?.on('error', () => undefined);
  proc.stdout?.on('error', () => undefined);
  child.exited = new Promise((resolve) => {
    const done = (code: number | null, signal: string | null) => {
      child.exit ??= { code, signal, order: ++exitCounter };
      clearTimeout(child.killTimer);
      resolve();
    };
    proc.once('exit', done);
    proc.once('error', (err) => {
      child.spawnError ??= err;
      if (proc.pid === undefined) done(null, null);
    });
  });
  child.closed = new Promise((resolve) => proc.once('close', () => resolve()));
  return child;
}

function stop(child: Child, graceMs: number): void {
  if (child.exit || child.proc.pid === undefined) return;
  child.stoppedByUs = true;
  child.proc.kill('SIGTERM');
  child.killTimer = setTimeout(() => {
    if (!child.exit) child.proc.kill('SIGKILL');
  }, graceMs);
}

function side(c: Child): SideResult {
  return {
    tool: c.cmd.tool,
    argv: c.cmd.argv,
    pid: c.proc.pid ?? null,
    exitCode: c.exit?.code ?? null,
    signal: c.exit?.signal ?? null,
    stderrTail: c.stderr.text(),
  };
}

/**
 * Streams a dump of `source` into `target` through the bot (no temporary file): dump stdout →
 * byte counter → restore stdin, with backpressure. Only a dump that exited 0 after its stream
 * ended, and a restore that then exited 0, is success. Misconfiguration throws DumpRestoreError;
 * everything that happens once processes run comes back as `ok: false`.
 */
export async function dumpRestore(
  source: SqlNode,
  target: SqlNode,
  options: DumpRestoreOptions,
): Promise<DumpRestoreResult> {
  const cmds = buildDumpRestore(source, target, options.env, options.tools, options.tag);
  const secrets = [
    passwordFor(source, options.env),
    passwordFor(target, options.env),
    ...(options.secrets ?? []),
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const graceMs = options.killGraceMs ?? 3000;
  const started = performance.now();

  // The whole step shares one deadline: what the clear used is gone from the stream's time.
  let clear: SideResult | null = null;
  if (options.clearTarget !== false) {
    const c = await runClear(
      cmds.clear,
      clearScript(target.db.engine, options.tag),
      secrets,
      options,
      graceMs,
    );
    clear = side(c);
    if (!succeeded(c))
      return clearFailedResult(
        { side: clear, timedOut: c.stoppedByUs },
        target,
        cmds,
        {},
        {
          secrets,
          started,
          timeoutMs: options.timeoutMs,
        },
      );
  }
  const streamMs = Math.max(1, options.timeoutMs - (performance.now() - started));

  const restore = start(cmds.restore, 'pipe', secrets);
  const dump = start(cmds.dump, 'ignore', secrets);
  options.onSpawn?.({ dump: dump.proc.pid, restore: restore.proc.pid });

  const f: Flow = { bytes: 0, streamEnded: false, restoreEarly: false, timedOut: false };

  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      f.bytes += chunk.length;
      options.onProgress?.(f.bytes);
      cb(null, chunk);
    },
  });
  // end:false — the restore's stdin is closed only once the dump has exited 0, so a restore
  // never sees a clean end of a dump that failed (mysql would happily commit the first half).
  // MariaDB has no application_name: each statement carries the tag in a leading comment instead.
  const tagger =
    options.tag !== undefined && target.db.engine === 'mysql' ? [statementTagger(options.tag)] : [];
  const piping =
    dump.proc.stdout && restore.proc.stdin
      ? pipeline([dump.proc.stdout, counter, ...tagger, restore.proc.stdin], { end: false }).then(
          () => void (f.streamEnded = true),
          (err: Error) => void (f.pipeError = err),
        )
      : Promise.resolve();

  const timer = setTimeout(() => {
    f.timedOut = true;
    stop(dump, graceMs);
    stop(restore, graceMs);
  }, streamMs);

  void restore.exited.then(() => {
    if (f.streamEnded || restore.stoppedByUs) return;
    f.restoreEarly = true;
    dump.proc.stdout?.destroy();
    stop(dump, graceMs);
  });
  const handedOver = Promise.all([piping, dump.exited]).then(() => {
    if (restore.exit) return;
    if (f.streamEnded && succeeded(dump) && !f.timedOut) restore.proc.stdin?.end();
    else stop(restore, graceMs);
  });

  await Promise.all([dump.exited, restore.exited]);
  clearTimeout(timer);
  // stderr may still hold the last lines after exit; a grandchild holding the pipe must not hang us.
  await Promise.race([Promise.all([dump.closed, restore.closed]), sleep(1000, undefined, { ref: false })]);
  await Promise.race([handedOver, sleep(100, undefined, { ref: false })]);
  // Exit 0 with part of the dump still unwritten is not a restore of the whole dump.
  if (succeeded(restore) && !restore.proc.stdin?.writableFinished) f.restoreEarly = true;
  for (const c of [dump, restore]) {
    c.proc.stdout?.destroy();
    c.proc.stderr?.destroy();
    c.proc.stdin?.destroy();
  }

  const ok =
    !f.timedOut && !f.restoreEarly && !f.pipeError && f.streamEnded && succeeded(dump) && succeeded(restore);
  const result: DumpRestoreResult = {
    ok,
    bytes: f.bytes,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    timedOut: f.timedOut,
    dump: side(dump),
    restore: { ...side(restore), stdoutTail: restore.stdout.text() },
    clear,
    cause: null,
    error: null,
  };
  if (!ok) {
    const [cause, error] = explain(
      { ...f, source, target, dump, restore, timeoutMs: options.timeoutMs },
      result,
    );
    result.cause = cause;
    result.error = redact(error, secrets);
  }
  return result;
}

/** The clear client with its script on stdin, bounded like the stream. */
async function runClear(
  cmd: ToolCommand,
  script: string,
  secrets: readonly string[],
  options: DumpRestoreOptions,
  graceMs: number,
): Promise<Child> {
  const c = start(cmd, 'pipe', secrets);
  c.proc.stdin?.end(script);
  const timer = setTimeout(() => stop(c, graceMs), options.timeoutMs);
  await c.exited;
  clearTimeout(timer);
  await Promise.race([c.closed, sleep(1000, undefined, { ref: false })]);
  c.proc.stdout?.destroy();
  c.proc.stderr?.destroy();
  return c;
}

/** What happened between the two processes, as far as the bot could see. */
interface Flow {
  bytes: number;
  streamEnded: boolean;
  restoreEarly: boolean;
  timedOut: boolean;
  pipeError?: Error;
}

type Outcome = Flow & {
  source: SqlNode;
  target: SqlNode;
  dump: Child;
  restore: Child;
  timeoutMs: number;
};

type Cause = DumpRestoreResult['cause'];

function explain(o: Outcome, r: DumpRestoreResult): [Cause, string] {
  return explainStream(
    o,
    {
      label: `dump of ${o.source.name} (${o.dump.cmd.tool})`,
      node: o.source.name,
      outcome: o.dump,
      stderrTail: r.dump.stderrTail,
    },
    {
      label: `restore into ${o.target.name} (${o.restore.cmd.tool})`,
      node: o.target.name,
      outcome: o.restore,
      stderrTail: r.restore.stderrTail,
    },
  );
}

/** The result as the run engine records and posts it. */
export function toStepResult(r: DumpRestoreResult): StepResult {
  const failing = r.cause === 'dump' ? r.dump : r.cause === 'restore' ? r.restore : null;
  const tails = [...(r.clear && r.clear.exitCode !== 0 ? [r.clear] : []), r.dump, r.restore]
    .filter((s) => s.stderrTail.trim() !== '')
    .map((s) => `[${s.tool}]\n${s.stderrTail.trimEnd()}`);
  const mib = (r.bytes / (1024 * 1024)).toFixed(1);
  return {
    ...emptyResult(),
    ok: r.ok,
    exitCode: r.ok ? 0 : (failing?.exitCode ?? null),
    stdoutTail: r.restore.stdoutTail.trim() === '' ? null : r.restore.stdoutTail,
    stderrTail: tails.length > 0 ? tails.join('\n') : null,
    bytes: r.bytes,
    durationMs: r.durationMs,
    error: r.error,
    note: `${r.dump.tool} → ${r.restore.tool}: ${r.bytes} bytes (${mib} MiB) in ${(r.durationMs / 1000).toFixed(1)} s${r.timedOut ? ', timed out' : ''}`,
  };
}
