import { execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../../src/config/topology';
import { closedPort } from './blackhole';

const SSHD = '/usr/sbin/sshd';

/**
 * Who the test sshd logs in. Not root: root's login shell (bash) sources ~/.bashrc for every
 * command sshd runs, and on a shared machine that file may run anything (pyenv, cargo, …), which
 * makes every remote command slow and its output unpredictable. The dedicated user's shell is
 * /bin/sh, which sources nothing when run by sshd (`sh -c`, not interactive, not a login shell; a
 * bash installed as /bin/sh also reads nothing when called as sh), and its home directory is empty.
 */
export const SSH_TEST_USER = 'recover-test';
const SSH_TEST_HOME = '/var/lib/recover-test';
const SSH_TEST_SHELL = '/bin/sh';

export interface SshUser {
  name: string;
  uid: number;
  gid: number;
  /** false when the tests do not run as root and log in as the current user instead. */
  dedicated: boolean;
}

let sshUserCache: SshUser | undefined;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function passwdEntry(name: string): { uid: number; gid: number; home: string; shell: string } | undefined {
  try {
    const [, , uid, gid, , home, shell] = execFileSync('getent', ['passwd', name], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim()
      .split(':');
    return { uid: Number(uid), gid: Number(gid), home: home ?? '', shell: shell ?? '' };
  } catch {
    return undefined; // getent exits 2 for an unknown user
  }
}

/**
 * The OS user the test sshd logs in, created on first use (root only). Idempotent, and safe when
 * several jest processes ask at once: useradd's "already exists" (exit 9) and "cannot lock
 * /etc/passwd" (exit 10) mean another process is creating it, so look again.
 */
export function sshUser(): SshUser {
  if (sshUserCache) return sshUserCache;
  if (process.getuid?.() !== 0) {
    // Without root there is no useradd and sshd can only log in its own user: the tests then run
    // remote commands as the current user, through that user's own login shell (which may read
    // its rc files; nothing here can change that without root).
    const me = userInfo();
    return (sshUserCache = { name: me.username, uid: me.uid, gid: me.gid, dedicated: false });
  }
  for (let attempt = 0; ; attempt++) {
    const entry = passwdEntry(SSH_TEST_USER);
    if (entry) {
      if (entry.shell !== SSH_TEST_SHELL || entry.home !== SSH_TEST_HOME)
        throw new Error(
          `OS user ${SSH_TEST_USER} exists with shell ${entry.shell} and home ${entry.home}; the tests ` +
            `need ${SSH_TEST_SHELL} and ${SSH_TEST_HOME}: run userdel ${SSH_TEST_USER} and retry`,
        );
      // An empty home: sshd changes into it, and no tool finds a dotfile there.
      mkdirSync(SSH_TEST_HOME, { recursive: true, mode: 0o755 });
      chownSync(SSH_TEST_HOME, entry.uid, entry.gid);
      return (sshUserCache = { name: SSH_TEST_USER, uid: entry.uid, gid: entry.gid, dedicated: true });
    }
    try {
      execFileSync(
        'useradd',
        [
          '--system',
          '--user-group',
          '--no-create-home',
          '--home-dir',
          SSH_TEST_HOME,
          '--shell',
          SSH_TEST_SHELL,
          // "*": no password, yet not locked; sshd without PAM refuses a "!" (locked) account.
          '--password',
          '*',
          '--comment',
          'Recover tests, logins of the test sshd',
          SSH_TEST_USER,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (err) {
      const e = err as { status?: number | null; stderr?: Buffer };
      if ((e.status !== 9 && e.status !== 10) || attempt >= 50)
        throw new Error(`useradd ${SSH_TEST_USER} failed: ${e.stderr?.toString().trim() ?? String(err)}`, {
          cause: err,
        });
      sleepSync(100);
    }
  }
}

/** Hand `path` (and everything below it) to the SSH test user: remote commands work in it. */
export function shareWithSshUser(path: string): void {
  const { uid, gid, dedicated } = sshUser();
  if (!dedicated) return;
  const walk = (p: string): void => {
    chownSync(p, uid, gid);
    if (lstatSync(p).isDirectory()) for (const entry of readdirSync(p)) walk(join(p, entry));
  };
  walk(path);
}

/** spawn/execFile options that run a local command as the SSH test user, as the remote side would. */
export function asSshUser(): { uid?: number; gid?: number } {
  const { uid, gid, dedicated } = sshUser();
  return dedicated ? { uid, gid } : {};
}

/**
 * A private OpenSSH server on a free loopback port, with its own host key, client key and
 * known_hosts, logging in the SSH test user (see SSH_TEST_USER) whose directory `dir` is.
 */
export interface TestSshd {
  port: number;
  user: string;
  keyPath: string;
  knownHostsPath: string;
  /** known_hosts naming this host with another key: what a man in the middle looks like. */
  wrongKnownHostsPath: string;
  dir: string;
  hostConfig(): Extract<HostConfig, { transport: 'ssh' }>;
  /** SIGTERM the server and its sessions, delete the directory. */
  stop(): Promise<void>;
  /** SIGKILL the server and every session: connections drop mid-command. */
  kill(): Promise<void>;
}

function keygen(path: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'recover-test', '-f', path]);
  const [type, key] = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/);
  return `${type} ${key}`;
}

/** Every process below pid (sshd forks one per connection, and those run the shells). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function waitForPort(port: number, exited: () => string | undefined, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = exited();
    if (why) throw new Error(`sshd exited before listening: ${why}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => (socket.destroy(), resolve(false)));
    });
    if (open) return;
    if (Date.now() > deadline)
      throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function startSshd(): Promise<TestSshd> {
  if (!existsSync(SSHD))
    throw new Error(`${SSHD} is missing: run npm run services (it installs openssh-server)`);
  const user = sshUser();
  const dir = mkdtempSync(join(tmpdir(), 'recover-sshd-'));
  const port = await closedPort();
  const hostKey = keygen(join(dir, 'host_ed25519'));
  const clientKey = keygen(join(dir, 'client_ed25519'));
  const otherKey = keygen(join(dir, 'other_ed25519'));
  const keyPath = join(dir, 'client_ed25519');
  const knownHostsPath = join(dir, 'known_hosts');
  const wrongKnownHostsPath = join(dir, 'known_hosts.wrong');
  writeFileSync(join(dir, 'authorized_keys'), `${clientKey}\n`);
  writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${hostKey}\n`);
  writeFileSync(wrongKnownHostsPath, `[127.0.0.1]:${port} ${otherKey}\n`);
  // sshd reads authorized_keys as the user; commands and SFTP may write here. The private keys
  // stay root's (0600): only the test process reads them.
  chownSync(dir, user.uid, user.gid);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no', // mkdtemp directories live under world-writable /tmp
      'UsePAM no',
      `AllowUsers ${user.name}`,
      'PermitUserRC no', // no ~/.ssh/rc either
      'PermitUserEnvironment no',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exit: string | undefined;
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = `${signal ?? `exit ${code}`} ${stderr.trim()}`;
      resolve();
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('sshd did not start');
  try {
    await waitForPort(port, () => exit);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const end = async (signal: NodeJS.Signals) => {
    const tree = descendants(pid);
    if (exit === undefined) child.kill(signal);
    signalAll(tree, signal);
    await exited;
  };
  return {
    port,
    user: user.name,
    keyPath,
    knownHostsPath,
    wrongKnownHostsPath,
    dir,
    hostConfig: () => ({
      transport: 'ssh',
      host: '127.0.0.1',
      port,
      user: user.name,
      keyPath,
      knownHostsPath,
      connectTimeoutMs: 5000,
    }),
    stop: async () => {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    kill: () => end('SIGKILL'),
  };
}
