import type { ClientChannel } from 'ssh2';
import type { SqlNode } from '../config/topology';
import { OutputTail, TAIL_BYTES } from '../hosts/redact';
import { SshError, type SshExecutor } from '../hosts/ssh-executor';
import type { ToolCommand } from './commands';
import type { SideResult } from './dump-restore';
import type { ProcessOutcome } from './outcome';

/**
 * One side (dump or restore) of a remote dump→restore: its SSH channel, the remote pid it reports,
 * its output tails, and how it is stopped (TERM, KILL, then close) or found lost.
 */
const PID_LINE = /(^|\n)recover-pid:(\d+):([^\n]*)\n/;

export interface Side extends ProcessOutcome {
  role: 'dump' | 'restore';
  node: SqlNode;
  exec: SshExecutor;
  /** What the result shows: the tool's argv, without the environment (no password). */
  shown: string[];
  tool: string;
  channel?: ClientChannel;
  spawnError?: Error;
  pid?: number;
  head?: Buffer;
  stderr: OutputTail;
  stdout: OutputTail;
  exit?: { code: number | null; signal: string | null; order: number };
  /** The channel closed without an exit status (or never confirmed): the connection is gone. */
  lost: boolean;
  closed: boolean;
  stoppedByUs: boolean;
  stopping?: Promise<void>;
  whenClosed: Promise<void>;
  markClosed: () => void;
  whenPid: Promise<void>;
  markPid: () => void;
  whenExit: Promise<void>;
  markExit: () => void;
}

let exitCounter = 0;

export function newSide(
  role: Side['role'],
  node: SqlNode,
  exec: SshExecutor,
  cmd: ToolCommand,
  candidates: readonly string[],
  secrets: readonly string[],
): Side {
  const s = {
    role,
    node,
    exec,
    shown: [candidates[0] ?? cmd.tool, ...cmd.argv.slice(1)],
    tool: candidates[0] ?? cmd.tool,
    head: Buffer.alloc(0),
    stderr: new OutputTail(TAIL_BYTES, secrets),
    stdout: new OutputTail(2048, secrets),
    lost: false,
    closed: false,
    stoppedByUs: false,
  } as Side;
  s.whenClosed = new Promise((r) => (s.markClosed = r));
  s.whenPid = new Promise((r) => (s.markPid = r));
  s.whenExit = new Promise((r) => (s.markExit = r));
  return s;
}

export function flushHead(s: Side): void {
  if (s.head) s.stderr.push(s.head);
  s.head = undefined;
  s.markPid();
}

export async function open(s: Side, argv: string[]): Promise<void> {
  let channel: ClientChannel;
  try {
    channel = await s.exec.spawn(argv);
  } catch (err) {
    s.spawnError = err as Error;
    s.closed = true;
    s.markPid();
    s.markExit();
    s.markClosed();
    return;
  }
  s.channel = channel;
  channel.stderr.on('data', (chunk: Buffer) => {
    if (!s.head) return s.stderr.push(chunk);
    // Hold stderr until the pid line is seen, and cut that line out of the tail.
    s.head = Buffer.concat([s.head, chunk]);
    const found = PID_LINE.exec(s.head.toString('latin1'));
    if (!found && s.head.length < 4096) return;
    if (found) {
      s.pid = Number(found[2]);
      if (found[3]) s.tool = found[3];
      s.shown[0] = s.tool;
      const start = found.index + (found[1] ?? '').length;
      s.head = Buffer.concat([s.head.subarray(0, start), s.head.subarray(found.index + found[0].length)]);
    }
    flushHead(s);
  });
  if (s.role === 'restore') channel.on('data', (chunk: Buffer) => s.stdout.push(chunk));
  channel.on('exit', (code: number | null, signal?: string) => {
    s.exit ??= {
      code: typeof code === 'number' ? code : null,
      signal: signal ? (signal.startsWith('SIG') ? signal : `SIG${signal}`) : null,
      order: ++exitCounter,
    };
    s.markExit();
  });
  channel.on('error', () => undefined); // a write after the peer closed; exit and close tell the rest
  channel.once('close', () => settle(s));
}

export function settle(s: Side): void {
  if (s.closed) return;
  s.closed = true;
  if (!s.exit) s.lost = true;
  flushHead(s);
  s.markExit();
  s.markClosed();
}

export const within = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(t);
      resolve(true);
    });
  });

/** `kill` of the remote pid (and its group, when it leads one) through another channel of the same connection. */
export async function remoteKill(s: Side, signal: 'TERM' | 'KILL'): Promise<void> {
  try {
    s.channel?.signal(signal);
  } catch {
    // servers may refuse signal requests (OpenSSH does for root logins)
  }
  if (s.pid === undefined) return;
  const script = `kill -${signal} -- -${s.pid} 2>/dev/null || kill -${signal} ${s.pid}`;
  await s.exec.run(['sh', '-c', script], { timeoutMs: 5000 }).catch(() => undefined);
}

/**
 * Ends one side: TERM, then KILL after the grace, and only then closes the channel. Closing first
 * would hand the restore an end of input, and mysql commits what it has read so far.
 */
export function stop(s: Side, graceMs: number): Promise<void> {
  if (s.stopping) return s.stopping;
  if (!s.channel || s.closed) return Promise.resolve();
  if (!s.exit) s.stoppedByUs = true;
  const channel = s.channel;
  s.stopping = (async () => {
    if (!s.exit) {
      await remoteKill(s, 'TERM');
      if (!(await within(s.whenExit, graceMs))) {
        await remoteKill(s, 'KILL');
        await within(s.whenExit, 1000);
      }
    }
    try {
      channel.close();
    } catch {
      // already closed
    }
    // A connection that died silently never confirms the close: stop waiting for it.
    if (!(await within(s.whenClosed, 1000))) settle(s);
  })();
  return s.stopping;
}

export function sideResult(s: Side): SideResult {
  return {
    tool: s.tool,
    argv: s.shown,
    pid: s.pid ?? null,
    exitCode: s.exit?.code ?? null,
    signal: s.exit?.signal ?? null,
    stderrTail: s.stderr.text(),
  };
}

export function lostError(s: Side, bytes: number): SshError {
  const h = s.node.host;
  const ssh = h?.transport === 'ssh' ? h : { host: '?', port: 0, user: '?' };
  return new SshError(
    'SSH_CONNECTION',
    { node: s.node.name, host: ssh.host, port: ssh.port, user: ssh.user, command: s.tool },
    `the ${s.role} channel closed without an exit status after ${bytes} bytes (connection lost): outcome unknown`,
  );
}
