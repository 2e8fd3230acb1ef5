import { readFile } from 'node:fs/promises';
import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import type { HostConfig } from '../config/topology';
import { fingerprint, hostKeyAlgorithms, keyType, knownHostKeys, knownHostsName } from './known-hosts';
import { shellCommand } from './quote';
import { OutputTail, TAIL_BYTES } from './redact';
import type { CommandResult, HostExecutor, RunOptions } from './types';

export type SshHostConfig = Extract<HostConfig, { transport: 'ssh' }>;

export type SshErrorCode =
  'SSH_CONNECTION' | 'SSH_CONNECT_TIMEOUT' | 'SSH_AUTH' | 'SSH_CONFIG' | 'SSH_CHANNEL' | 'HOST_KEY';

/** Where an SSH failure happened. Never the key: only its path. */
export interface SshContext {
  node: string;
  host: string;
  port: number;
  user: string;
  command?: string;
}

export class SshError extends Error {
  constructor(
    readonly code: SshErrorCode,
    readonly context: SshContext,
    message: string,
  ) {
    const { node, user, host, port, command } = context;
    super(`${node} (${user}@${host}:${port})${command ? ` running ${command}` : ''}: ${message}`);
    this.name = 'SshError';
  }
}

/** The host presented a key that known_hosts does not vouch for: never accepted blindly. */
export class HostKeyError extends SshError {
  declare readonly code: 'HOST_KEY';
  constructor(
    context: SshContext,
    readonly presentedType: string,
    readonly presentedFingerprint: string,
    message: string,
  ) {
    super('HOST_KEY', context, message);
    this.name = 'HostKeyError';
  }
}

export interface SshExecutorOptions {
  /** Values to replace with [redacted] in output tails. */
  secrets?: readonly string[];
  tailBytes?: number;
  /** After a timeout's SIGTERM, how long until SIGKILL. */
  killGraceMs?: number;
  /** SSH keepalives find a silently dead peer during long commands; 0 turns them off. */
  keepaliveIntervalMs?: number;
}

interface Connection {
  client: Client;
  closed: boolean;
  whenClosed: Promise<void>;
  reason?: string;
}

/** SHA256 fingerprint the way `ssh-keygen -lf` prints it. */
export class SshExecutor implements HostExecutor {
  private conn?: Promise<Connection>;
  private opened = 0;
  private readonly tailBytes: number;

  constructor(
    readonly node: string,
    private readonly host: SshHostConfig,
    private readonly options: SshExecutorOptions = {},
  ) {
    this.tailBytes = options.tailBytes ?? TAIL_BYTES;
  }

  /** Connections that reached `ready` over this executor's life. */
  get connectionsOpened(): number {
    return this.opened;
  }

  async run(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
    const context = this.context(argv);
    const conn = await this.connection();
    const started = performance.now();
    // Listen for the exit status from the moment the channel exists: a fast command's status can
    // arrive in the same read as the exec confirmation, before the code after this await runs.
    const exit: { got: boolean; code: number | null; signal: string | null } = {
      got: false,
      code: null,
      signal: null,
    };
    const channel = await this.exec(conn, argv, PID_PREAMBLE, (ch) =>
      ch.on('exit', (code: number | null, sig?: string) => {
        exit.got = true;
        exit.code = code;
        if (sig) exit.signal = sig.startsWith('SIG') ? sig : `SIG${sig}`;
      }),
    );
    const stdout = new OutputTail(this.tailBytes, this.options.secrets);
    const stderr = new OutputTail(this.tailBytes, this.options.secrets);
    const grace = this.options.killGraceMs ?? 2000;
    return new Promise<CommandResult>((resolve, reject) => {
      let timedOut = false;
      let done = false;
      let group: number | undefined;
      let head: Buffer | undefined = Buffer.alloc(0);
      const timers: NodeJS.Timeout[] = [];
      const lost = (what: string) =>
        new SshError(
          'SSH_CONNECTION',
          context,
          `${what} (${conn.reason ?? 'connection lost'}): outcome unknown`,
        );
      const settle = (error?: Error) => {
        if (done) return;
        done = true;
        timers.forEach(clearTimeout);
        conn.client.removeListener('close', onDrop);
        if (error) return reject(error);
        if (!exit.got && !timedOut) return reject(lost('the channel closed without an exit status'));
        if (head) stderr.push(head);
        resolve({
          exitCode: exit.code,
          signal: exit.signal ?? (timedOut ? 'SIGTERM' : null),
          stdoutTail: stdout.text(),
          stderrTail: stderr.text(),
          durationMs: Math.round(performance.now() - started),
          timedOut,
        });
      };
      const onDrop = () => settle(lost('the connection dropped before the command finished'));
      conn.client.once('close', onDrop);
      timers.push(
        setTimeout(() => {
          timedOut = true;
          terminate(channel);
          if (group !== undefined) killGroup(conn.client, group, 'TERM');
          timers.push(setTimeout(() => group !== undefined && killGroup(conn.client, group, 'KILL'), grace));
          timers.push(setTimeout(() => settle(), grace + 1000)); // the host never confirmed: stop waiting
        }, options.timeoutMs),
      );
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => {
        if (!head) return stderr.push(chunk);
        // Hold stderr until the preamble's line (the process group) is seen, and cut that line out.
        head = Buffer.concat([head, chunk]);
        const found = PID_LINE.exec(head.toString('latin1')); // latin1: one char per byte, offsets agree
        if (!found && head.length < 4096) return;
        if (found) {
          group = Number(found[2]);
          const start = found.index + (found[1] ?? '').length;
          head = Buffer.concat([head.subarray(0, start), head.subarray(found.index + found[0].length)]);
        }
        stderr.push(head);
        head = undefined;
      });
      channel.on('error', () => undefined); // a write after the peer closed; the close says the rest
      channel.once('close', () => setImmediate(() => settle()));
      channel.end(options.stdin);
    });
  }

  /** The handshake ahead of need: a failover should not pay it after the crash. Kept alive by keepalives. */
  async connect(): Promise<void> {
    await this.connection();
  }

  /** A raw exec channel for streaming pipelines (dump → restore). The caller owns its streams and exit. */
  async spawn(argv: readonly string[]): Promise<ClientChannel> {
    return this.exec(await this.connection(), argv);
  }

  /** SFTP over the same connection (the Rijndael key copy). */
  async openSftp(): Promise<SFTPWrapper> {
    const conn = await this.connection();
    const context = this.context(['sftp']);
    return new Promise((resolve, reject) => {
      try {
        conn.client.sftp((err, sftp) =>
          err
            ? reject(new SshError('SSH_CHANNEL', context, `cannot open SFTP: ${err.message}`))
            : resolve(sftp),
        );
      } catch (err) {
        reject(new SshError('SSH_CONNECTION', context, (err as Error).message));
      }
    });
  }

  async close(): Promise<void> {
    const pending = this.conn;
    this.conn = undefined;
    const conn = await pending?.catch(() => undefined);
    if (!conn || conn.closed) return;
    conn.reason = 'closed by Recover';
    conn.client.end();
    const forced = setTimeout(() => conn.client.destroy(), 2000);
    await conn.whenClosed;
    clearTimeout(forced);
  }

  private context(argv: readonly string[] = []): SshContext {
    const { host, port, user } = this.host;
    return { node: this.node, host, port, user, ...(argv[0] ? { command: argv[0] } : {}) };
  }

  /** The shared connection; cleared the moment it closes, so a dropped one is never handed out. */
  private connection(): Promise<Connection> {
    if (this.conn) return this.conn;
    const fresh = this.open(() => this.conn === fresh && (this.conn = undefined));
    this.conn = fresh;
    fresh.catch(() => this.conn === fresh && (this.conn = undefined)); // the next command tries again
    return fresh;
  }

  private exec(
    conn: Connection,
    argv: readonly string[],
    preamble = '',
    onChannel?: (channel: ClientChannel) => void,
  ): Promise<ClientChannel> {
    const context = this.context(argv);
    return new Promise((resolve, reject) => {
      try {
        conn.client.exec(preamble + shellCommand(argv), (err, channel) =>
          err
            ? reject(new SshError('SSH_CHANNEL', context, `cannot start the command: ${err.message}`))
            : (onChannel?.(channel), resolve(channel)),
        );
      } catch (err) {
        const reason = `${(err as Error).message} (${conn.reason ?? 'connection lost'})`;
        reject(new SshError('SSH_CONNECTION', context, reason));
      }
    });
  }

  private async open(onClose: () => void): Promise<Connection> {
    const { host, port, user, keyPath, knownHostsPath, connectTimeoutMs } = this.host;
    const context = this.context();
    const read = (path: string, what: string) =>
      readFile(path).catch((err: NodeJS.ErrnoException) => {
        throw new SshError('SSH_CONFIG', context, `cannot read ${what} ${path} (${err.code ?? err.message})`);
      });
    const [privateKey, knownHosts] = await Promise.all([
      read(keyPath, 'private key'),
      read(knownHostsPath, 'known_hosts'),
    ]);
    const name = knownHostsName(host, port);
    const known = knownHostKeys(knownHosts.toString('utf8'), name);
    let rejected: HostKeyError | undefined;
    const verify = (blob: Buffer): boolean => {
      const match = known.find((k) => k.blob.equals(blob));
      if (match && !match.revoked) return true;
      const type = keyType(blob);
      const print = fingerprint(blob);
      const expected = known.filter((k) => !k.revoked).map((k) => `${k.type} ${fingerprint(k.blob)}`);
      const why = match
        ? `is marked @revoked in ${knownHostsPath}`
        : expected.length > 0
          ? `does not match ${knownHostsPath}, which expects ${expected.join(', ')}: the host was reinstalled or someone is in between; refusing to connect`
          : `is unknown: ${name} has no entry in ${knownHostsPath}; verify the fingerprint out of band and add the key`;
      rejected = new HostKeyError(
        context,
        type,
        print,
        `host key ${type} ${print} presented by ${name} ${why}`,
      );
      return false;
    };

    const client = new Client();
    client.setMaxListeners(0); // one 'close' listener per command in flight
    let markClosed!: () => void;
    const conn: Connection = { client, closed: false, whenClosed: new Promise((r) => (markClosed = r)) };
    client.on('close', () => {
      conn.closed = true;
      onClose();
      markClosed();
    });
    const failure = (code: SshErrorCode, message: string) => rejected ?? new SshError(code, context, message);
    return new Promise<Connection>((resolve, reject) => {
      let ready = false;
      client.on('error', (err: Error & { level?: string }) => {
        conn.reason ??= err.message;
        if (ready) return; // in-flight commands learn of it through 'close'
        client.destroy();
        if (err.level === 'client-timeout')
          return reject(failure('SSH_CONNECT_TIMEOUT', `no SSH handshake within ${connectTimeoutMs} ms`));
        if (err.level === 'client-authentication')
          return reject(failure('SSH_AUTH', `the server refused the key ${keyPath}`));
        reject(failure('SSH_CONNECTION', `cannot connect: ${err.message}`));
      });
      client.once('close', () => {
        if (!ready)
          reject(failure('SSH_CONNECTION', 'the server closed the connection during the handshake'));
      });
      client.once('ready', () => {
        ready = true;
        this.opened++;
        resolve(conn);
      });
      try {
        client.connect({
          host,
          port,
          username: user,
          privateKey,
          readyTimeout: connectTimeoutMs,
          keepaliveInterval: this.options.keepaliveIntervalMs ?? 15_000,
          keepaliveCountMax: 3,
          hostVerifier: verify,
          algorithms: hostKeyAlgorithms(known),
        });
      } catch (err) {
        // ssh2 throws for an unusable key; its message names the problem, never the key itself.
        reject(failure('SSH_CONFIG', `cannot use private key ${keyPath}: ${(err as Error).message}`));
      }
    });
  }
}

/**
 * The login shell prints its pid before running the command. sshd made that shell a session
 * leader, so the pid is the command's process group: a timeout can end all of it, even where sshd
 * refuses signal requests (OpenSSH does for root logins, which run without privilege separation).
 */
const PID_PREAMBLE = `printf 'recover-pgid:%s\\n' "$$" >&2; `;
const PID_LINE = /(^|\n)recover-pgid:(\d+)\n/;

/**
 * `kill` in a second channel of the same connection; a shell builtin, so present on every host.
 * No `--`: dash (Debian's /bin/sh) rejects it, and `kill -SIG -PGID` means the group in every shell.
 */
function killGroup(client: Client, group: number, signal: 'TERM' | 'KILL'): void {
  try {
    client.exec(`kill -${signal} -${group}`, (err, channel) => {
      if (err) return;
      channel.on('error', () => undefined);
      channel.resume();
      channel.stderr.resume();
      channel.end();
    });
  } catch {
    // the connection is gone; its close settles the run
  }
}

/** Ask the remote side to end the command (RFC 4254 signal), then close the channel. */
function terminate(channel: ClientChannel): void {
  // ssh2's public signal() is a no-op once stdin got EOF, but RFC 4254 allows the request after EOF.
  const internal = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, s: string) => void } };
  };
  try {
    const id = internal.outgoing?.id;
    if (id !== undefined && internal.outgoing?.state !== 'closed')
      internal._client?._protocol?.signal?.(id, 'TERM');
  } catch {
    // servers may refuse signals; the process-group kill and the close still apply
  }
  try {
    channel.close();
  } catch {
    // already closed
  }
}
