import { performance } from 'node:perf_hooks';
import type { SqlNode } from '../config/topology';
import { redact } from '../hosts/redact';
import type { SshExecutor } from '../hosts/ssh-executor';
import type { ToolCommand } from './commands';
import type { DumpRestoreResult, SideResult } from './dump-restore';
import { lastLines } from './outcome';

/**
 * The first part of a dump→restore: the target's schema emptied by a client on the target side
 * (clearScript in commands.ts), so that a retry after a cut-off attempt starts from nothing.
 */
export interface ClearOutcome {
  side: SideResult;
  timedOut: boolean;
  /** Over SSH: the channel ended without an exit status. */
  lost?: boolean;
}

const notRun = (cmd: ToolCommand, tool = cmd.tool): SideResult => ({
  tool,
  argv: [tool, ...cmd.argv.slice(1)],
  pid: null,
  exitCode: null,
  signal: null,
  stderrTail: '',
});

/** The result of a step that stopped at the clear: nothing was streamed, the target is as the clear left it. */
export function clearFailedResult(
  o: ClearOutcome,
  target: SqlNode,
  cmds: { dump: ToolCommand; restore: ToolCommand },
  names: { dump?: string; restore?: string; via?: string },
  context: { secrets: readonly string[]; started: number; timeoutMs: number },
): DumpRestoreResult {
  const c = o.side;
  const label = `${c.tool}${names.via ?? ''}`;
  const fate = o.lost
    ? 'ended without an exit status (connection lost): outcome unknown'
    : c.signal
      ? `was killed by ${c.signal}`
      : `exited with code ${c.exitCode ?? 'unknown'}`;
  const error = o.timedOut
    ? `timed out after ${context.timeoutMs} ms while emptying ${target.name} before the restore (${label}); nothing was streamed`
    : `restore into ${target.name} (${label}) failed: could not empty the target first: it ${fate}${lastLines(c.stderrTail)}; nothing was streamed`;
  return {
    ok: false,
    bytes: 0,
    durationMs: Math.round((performance.now() - context.started) * 10) / 10,
    timedOut: o.timedOut,
    cause: o.timedOut ? 'timeout' : 'restore',
    dump: notRun(cmds.dump, names.dump),
    restore: { ...notRun(cmds.restore, names.restore), stdoutTail: '' },
    clear: c,
    error: redact(error, context.secrets),
  };
}

const PID_LINE = /(^|\n)recover-pid:(\d+):([^\n]*)\n/;

/** The clear over SSH on the target host, its script on stdin (`argv` from remoteCommand). */
export async function remoteClear(
  exec: SshExecutor,
  argv: string[],
  shownTool: string,
  cmd: ToolCommand,
  script: string,
  timeoutMs: number,
): Promise<ClearOutcome> {
  const shown = [shownTool, ...cmd.argv.slice(1)];
  try {
    const r = await exec.run(argv, { timeoutMs, stdin: script });
    const found = PID_LINE.exec(r.stderrTail);
    const side: SideResult = {
      tool: found?.[3] || shownTool,
      argv: shown,
      pid: found ? Number(found[2]) : null,
      exitCode: r.exitCode,
      signal: r.timedOut ? null : r.signal,
      stderrTail: r.stderrTail.replace(PID_LINE, '$1'),
    };
    return { side, timedOut: r.timedOut };
  } catch (err) {
    const side = { tool: shownTool, argv: shown, pid: null, exitCode: null, signal: null, stderrTail: '' };
    return { side: { ...side, stderrTail: (err as Error).message }, timedOut: false, lost: true };
  }
}
