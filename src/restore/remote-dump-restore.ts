import { explainStream, status, succeeded } from './outcome';
import { performance } from 'node:perf_hooks';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DbEngine, SqlNode } from '../config/topology';
import { shellQuote } from '../hosts/quote';
import { redact } from '../hosts/redact';
import type { SshExecutor } from '../hosts/ssh-executor';
import { buildDumpRestore, clearScript, passwordFor, type ToolCommand } from './commands';
import { clearFailedResult, remoteClear } from './clear-target';
import { statementTagger } from './tag-statements';
import { REMOTE_TIE } from './tie-to-parent';
import { flushHead, lostError, newSide, open, sideResult, stop, within, type Side } from './remote-side';
import type { DumpRestoreOptions, DumpRestoreResult, SideResult } from './dump-restore';

/** Program names tried in order on each host (found in the remote login's PATH). */
export interface RemoteTools {
  dump: readonly string[];
  restore: readonly string[];
  /** The client that empties the target first; psql, or the restore's own client on MariaDB. */
  client?: readonly string[];
}

// MariaDB ≥ 11 warns when called by its mysql* names; MySQL only has those.
const REMOTE_TOOLS: Record<DbEngine, RemoteTools> = {
  postgres: { dump: ['pg_dump'], restore: ['pg_restore'], client: ['psql'] },
  mysql: { dump: ['mariadb-dump', 'mysqldump'], restore: ['mariadb', 'mysql'], client: ['mariadb', 'mysql'] },
};

export interface RemoteDumpRestoreOptions extends Omit<DumpRestoreOptions, 'tools' | 'onSpawn'> {
  tools?: RemoteTools;
  /** Test hook: the remote pids (on the source and on the target host) once both are known. */
  onSpawn?: (pids: { dump: number | undefined; restore: number | undefined }) => void;
}

/** The executors of the two hosts: the dump runs on the source's, the restore on the target's. */
export interface RemoteHosts {
  source: SshExecutor;
  target: SshExecutor;
}

/** "Run where the topology says": both nodes reached over SSH means dump and restore run on their hosts. */
export function runsOverSsh(source: SqlNode, target: SqlNode): boolean {
  return source.host?.transport === 'ssh' && target.host?.transport === 'ssh';
}

/**
 * One remote command line: the first program of `candidates` found on the host, exec'd by `env`
 * with the tool's environment (passwords included) as assignments. The shell prints its pid (which
 * the exec hands on to the tool) before, so that a stop can `kill` it through another channel.
 * Everything is shell-quoted; the password is only ever in the remote command, never in a local argv.
 */
export function remoteCommand(cmd: ToolCommand, candidates: readonly string[]): string[] {
  // The remote login's PATH, not the bot's: the bot's directories mean nothing on another host.
  const assignments = Object.entries(cmd.env)
    .filter(([k]) => k !== 'PATH')
    .map(([k, v]) => shellQuote(`${k}=${v}`));
  const args = cmd.argv.slice(1).map(shellQuote).join(' ');
  const names = candidates.map(shellQuote).join(' ');
  // $tie: setpriv's parent-death signal where the host has it, so the tool dies with its sshd session.
  const script =
    REMOTE_TIE +
    `for t in ${names}; do if command -v "$t" >/dev/null 2>&1; then ` +
    `printf 'recover-pid:%s:%s\\n' "$$" "$t" >&2; exec env ${assignments.join(' ')} $tie "$t" ${args}; fi; done; ` +
    `printf 'recover: none of %s found on this host\\n' ${shellQuote(candidates.join(', '))} >&2; exit 127`;
  return ['sh', '-c', script];
}

interface Flow {
  bytes: number;
  streamEnded: boolean;
  eofSent: boolean;
  restoreEarly: boolean;
  timedOut: boolean;
  pipeError?: Error;
}

/**
 * Streams a dump of `source`, run on the source's host, into a restore of `target`, run on the
 * target's host, through the bot: dump channel stdout → byte counter → restore channel stdin, with
 * backpressure and no temporary file. The restore gets its end of input only after the dump exited 0
 * and its stream ended; otherwise it is killed before its channel is closed. A connection that drops
 * (a channel without an exit status) is never success. Misconfiguration throws DumpRestoreError.
 */
export async function remoteDumpRestore(
  source: SqlNode,
  target: SqlNode,
  hosts: RemoteHosts,
  options: RemoteDumpRestoreOptions,
): Promise<DumpRestoreResult> {
  // Placeholder tools: only the arguments and the environment are used, the program is found remotely.
  const cmds = buildDumpRestore(
    source,
    target,
    options.env,
    { dump: 'dump', restore: 'restore', client: 'client' },
    options.tag,
  );
  const secrets = [
    passwordFor(source, options.env),
    passwordFor(target, options.env),
    ...(options.secrets ?? []),
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const tools = options.tools ?? REMOTE_TOOLS[source.db.engine];
  const graceMs = options.killGraceMs ?? 3000;
  const started = performance.now();
  const f: Flow = { bytes: 0, streamEnded: false, eofSent: false, restoreEarly: false, timedOut: false };

  // The whole step shares one deadline: what the clear used is gone from the stream's time.
  let clear: SideResult | null = null;
  if (options.clearTarget !== false) {
    const client = tools.client ?? (target.db.engine === 'postgres' ? ['psql'] : tools.restore);
    const script = clearScript(target.db.engine, options.tag);
    const c = await remoteClear(
      hosts.target,
      remoteCommand(cmds.clear, client),
      client[0] ?? cmds.clear.tool,
      cmds.clear,
      script,
      options.timeoutMs,
    );
    clear = c.side;
    if (c.timedOut || c.lost || c.side.exitCode !== 0)
      return clearFailedResult(
        c,
        target,
        cmds,
        { dump: tools.dump[0], restore: tools.restore[0], via: ' over SSH' },
        { secrets, started, timeoutMs: options.timeoutMs },
      );
  }
  const streamMs = Math.max(1, options.timeoutMs - (performance.now() - started));

  const dump = newSide('dump', source, hosts.source, cmds.dump, tools.dump, secrets);
  const restore = newSide('restore', target, hosts.target, cmds.restore, tools.restore, secrets);

  const timer = setTimeout(() => {
    f.timedOut = true;
    void stop(dump, graceMs);
    void stop(restore, graceMs);
  }, streamMs);

  // The restore first: its pid must be known (so that it can be killed) before a byte reaches it.
  await open(restore, remoteCommand(cmds.restore, tools.restore));
  await restore.whenPid;
  if (!restore.spawnError && !restore.closed && !f.timedOut)
    await open(dump, remoteCommand(cmds.dump, tools.dump));
  else {
    // Never started: the restore is already gone (or the time is up).
    dump.stoppedByUs = true;
    dump.closed = true;
    flushHead(dump);
    dump.markExit();
    dump.markClosed();
  }
  await dump.whenPid;
  options.onSpawn?.({ dump: dump.pid, restore: restore.pid });

  let handedOver: Promise<void> = Promise.resolve();
  if (dump.channel && restore.channel && !restore.closed && !f.timedOut) {
    const dumpChannel = dump.channel;
    const restoreChannel = restore.channel;
    dumpChannel.end(); // the dump reads nothing
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        f.bytes += chunk.length;
        options.onProgress?.(f.bytes);
        cb(null, chunk);
      },
    });
    // The restore channel never enters the pipeline: pipeline would destroy() it on an error, and
    // ssh2's destroy() sends EOF first. This sink forwards with backpressure and never ends it.
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (restore.closed || restore.exit)
          return cb(new Error(`the restore on ${target.name} stopped reading`));
        if (restoreChannel.write(chunk)) return cb();
        const done = (err?: Error) => {
          restoreChannel.removeListener('drain', onDrain);
          restoreChannel.removeListener('close', onClose);
          cb(err);
        };
        const onDrain = () => done();
        const onClose = () => done(new Error(`the restore channel to ${target.name} closed`));
        restoreChannel.once('drain', onDrain);
        restoreChannel.once('close', onClose);
      },
    });
    // MariaDB has no application_name: each statement carries the tag in a leading comment instead.
    const tagger =
      options.tag !== undefined && target.db.engine === 'mysql' ? [statementTagger(options.tag)] : [];
    const piping = pipeline([dumpChannel, counter, ...tagger, sink]).then(
      () => void (f.streamEnded = true),
      (err: Error) => void (f.pipeError = err),
    );
    void restore.whenExit.then(() => {
      if (f.eofSent || restore.stoppedByUs) return;
      f.restoreEarly = true;
      void stop(dump, graceMs);
    });
    handedOver = Promise.all([piping, dump.whenClosed]).then(async () => {
      if (restore.exit || restore.closed) return;
      if (f.streamEnded && !f.pipeError && succeeded(dump) && !f.timedOut) {
        f.eofSent = true;
        restoreChannel.end();
      } else await stop(restore, graceMs);
    });
  } else {
    // One side never started: the other must not run on alone (and the restore gets no EOF).
    await Promise.all([stop(dump, graceMs), stop(restore, graceMs)]);
  }

  await Promise.all([dump.whenClosed, restore.whenClosed]);
  clearTimeout(timer);
  await within(handedOver, 1000);
  // A restore that ended while the dump still ran must not leave the dump running.
  await Promise.all([stop(dump, graceMs), stop(restore, graceMs)]);

  const ok =
    !f.timedOut &&
    !f.restoreEarly &&
    !f.pipeError &&
    f.streamEnded &&
    f.eofSent &&
    succeeded(dump) &&
    succeeded(restore);
  const result: DumpRestoreResult = {
    ok,
    bytes: f.bytes,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    timedOut: f.timedOut,
    dump: sideResult(dump),
    restore: { ...sideResult(restore), stdoutTail: restore.stdout.text() },
    clear,
    cause: null,
    error: null,
  };
  if (!ok) {
    const [cause, error] = explain(f, dump, restore, options.timeoutMs);
    result.cause = cause;
    result.error = redact(error, secrets);
  }
  return result;
}

/** The shared explanation (outcome.ts), after what only SSH has: a connection lost or a side that never started. */
function explain(
  f: Flow,
  dump: Side,
  restore: Side,
  timeoutMs: number,
): [DumpRestoreResult['cause'], string] {
  const d = `dump of ${dump.node.name} (${dump.tool} over SSH)`;
  const t = `restore into ${restore.node.name} (${restore.tool} over SSH)`;
  const shared = () =>
    explainStream(
      { ...f, timeoutMs },
      { label: d, node: dump.node.name, outcome: dump, stderrTail: dump.stderr.text() },
      { label: t, node: restore.node.name, outcome: restore, stderrTail: restore.stderr.text() },
    );
  if (f.timedOut) return shared();
  const partial = f.bytes > 0 ? `; ${restore.node.name} may hold a partial restore` : '';
  const fate = (s: Side) => (s.stoppedByUs ? 'was stopped' : status(s));
  // A dropped connection says nothing about what the remote process did: name it first.
  for (const s of [dump, restore]) {
    const what = s === dump ? d : t;
    if (s.lost && !s.stoppedByUs) {
      const other = s === dump ? restore : dump;
      const lost = lostError(s, f.bytes).message;
      return [
        s.role,
        `${what}: SSH connection lost after ${f.bytes} bytes streamed (${lost}); the ${other === dump ? d : t} ${fate(other)}${partial}`,
      ];
    }
    if (s.spawnError) return [s.role, `${what} could not be started: ${s.spawnError.message}`];
  }
  return shared();
}
