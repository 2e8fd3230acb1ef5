import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
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

/** A private OpenSSH server on a free loopback port, with its own host key, client key and known_hosts. */
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
      'PermitRootLogin yes', // the tests run as root here
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
    user: userInfo().username,
    keyPath,
    knownHostsPath,
    wrongKnownHostsPath,
    dir,
    hostConfig: () => ({
      transport: 'ssh',
      host: '127.0.0.1',
      port,
      user: userInfo().username,
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
