import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlNode } from '../../src/config/topology';
import { HostConfigError, HostExecutors } from '../../src/hosts/executors';
import { LocalExecutor } from '../../src/hosts/local-executor';
import { HostKeyError, SshError, SshExecutor } from '../../src/hosts/ssh-executor';
import { closedPort, startBlackhole } from '../helpers/blackhole';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { SSH_TEST_USER, sshUser, startSshd, type TestSshd } from '../helpers/sshd';

const NASTY = [
  "it's",
  '"q"',
  'a; rm -rf /',
  '$(touch /tmp/recover-pwned)',
  '`id`',
  'two\nlines',
  '',
  '*',
  '\\',
];

/** Processes whose command line is exactly argv, on this machine (the sshd is on loopback). */
function processesRunning(argv: string[]): number {
  const wanted = argv.join('\0') + '\0';
  return readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p)) return false;
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8') === wanted;
    } catch {
      return false;
    }
  }).length;
}

describe('SshExecutor against a real sshd', () => {
  let sshd: TestSshd;
  let ssh: SshExecutor;

  beforeAll(async () => {
    sshd = await startSshd();
    ssh = new SshExecutor('rls-1', sshd.hostConfig(), { secrets: ['s3cr3t-Value'] });
  });

  afterAll(async () => {
    await ssh.close();
    await sshd.stop();
    await expectNoLeakedHandles();
  });

  it('runs a command and reports exit code, output and duration', async () => {
    const result = await ssh.run(['echo', 'hello'], { timeoutMs: 5000 });
    expect(result).toMatchObject({
      exitCode: 0,
      signal: null,
      stdoutTail: 'hello\n',
      stderrTail: '',
      timedOut: false,
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const failed = await ssh.run(['sh', '-c', 'echo oops >&2; exit 3'], { timeoutMs: 5000 });
    expect(failed).toMatchObject({ exitCode: 3, stderrTail: 'oops\n', timedOut: false });
  });

  it('logs in as the dedicated test user (when root), whose login shell is /bin/sh', async () => {
    const result = await ssh.run(['sh', '-c', 'id -un; getent passwd "$(id -un)" | cut -d: -f7'], {
      timeoutMs: 5000,
    });
    expect(result).toMatchObject({ exitCode: 0, stderrTail: '' });
    const [name, shell] = result.stdoutTail.trim().split('\n');
    expect(name).toBe(sshd.user);
    if (sshUser().dedicated) {
      expect(name).toBe(SSH_TEST_USER);
      expect(shell).toBe('/bin/sh');
    }
  });

  it('passes quotes, ;, $(…), newlines and empty arguments verbatim', async () => {
    const result = await ssh.run(['printf', '%s\\0', ...NASTY], { timeoutMs: 5000 });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutTail.split('\0').slice(0, -1)).toEqual(NASTY);
    expect(existsSync('/tmp/recover-pwned')).toBe(false);
  });

  it('keeps only the last 8 KiB of a 1 MB output, per stream', async () => {
    const script =
      'head -c 1048576 /dev/zero | tr "\\0" a; printf END; head -c 100000 /dev/zero | tr "\\0" e >&2';
    const result = await ssh.run(['sh', '-c', script], { timeoutMs: 10_000 });
    expect(result.exitCode).toBe(0);
    expect(Buffer.byteLength(result.stdoutTail)).toBe(8192);
    expect(result.stdoutTail.endsWith('aaaEND')).toBe(true);
    expect(result.stderrTail).toBe('e'.repeat(8192));
  });

  it('times out: timedOut, without waiting for the command, and the remote command is told to stop', async () => {
    const argv = ['sleep', '5.321'];
    const result = await ssh.run(argv, { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGTERM');
    // A sleep that ran to its end would have exited 0: this one was ended, and is gone.
    expect(result.exitCode).toBeNull();
    expect(processesRunning(argv)).toBe(0);
  });

  it('reuses one connection for many commands, in sequence and at once', async () => {
    const before = ssh.connectionsOpened;
    for (let i = 0; i < 10; i++) expect((await ssh.run(['true'], { timeoutMs: 5000 })).exitCode).toBe(0);
    const parallel = await Promise.all(
      Array.from({ length: 5 }, (_, i) => ssh.run(['echo', String(i)], { timeoutMs: 5000 })),
    );
    expect(parallel.map((r) => r.stdoutTail)).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n']);
    expect(ssh.connectionsOpened).toBe(Math.max(before, 1));
  });

  it('delivers stdin and closes it', async () => {
    const small = await ssh.run(['cat'], { timeoutMs: 5000, stdin: 'line 1\nline 2\n' });
    expect(small.stdoutTail).toBe('line 1\nline 2\n');
    const large = await ssh.run(['wc', '-c'], { timeoutMs: 5000, stdin: Buffer.alloc(300_000, 'x') });
    expect(large.stdoutTail.trim()).toBe('300000');
  });

  it('redacts secrets and password assignments from both tails', async () => {
    const script = 'echo "PGPASSWORD=hunter2 psql"; echo key s3cr3t-Value; echo s3cr3t-Value >&2';
    const result = await ssh.run(['sh', '-c', script], { timeoutMs: 5000 });
    expect(result.stdoutTail).toBe('PGPASSWORD=[redacted] psql\nkey [redacted]\n');
    expect(result.stderrTail).toBe('[redacted]\n');
  });

  it('streams through spawn() and opens SFTP on the same connection', async () => {
    const channel = await ssh.spawn(['tr', 'a-z', 'A-Z']);
    const chunks: Buffer[] = [];
    channel.on('data', (c: Buffer) => chunks.push(c));
    const exit = new Promise<number>((resolve) => channel.on('exit', (code: number) => resolve(code)));
    const closed = new Promise((resolve) => channel.once('close', resolve));
    channel.end('streamed\n');
    expect(await exit).toBe(0);
    await closed;
    expect(Buffer.concat(chunks).toString()).toBe('STREAMED\n');

    writeFileSync(join(sshd.dir, 'probe.txt'), 'over sftp');
    const sftp = await ssh.openSftp();
    const text = await new Promise<string>((resolve, reject) =>
      sftp.readFile(join(sshd.dir, 'probe.txt'), (err, data) =>
        err ? reject(err) : resolve(data.toString()),
      ),
    );
    sftp.end();
    expect(text).toBe('over sftp');
    expect(ssh.connectionsOpened).toBe(1);
  });

  it('refuses a host whose key does not match known_hosts, naming the presented fingerprint', async () => {
    const marker = join(sshd.dir, 'must-not-exist');
    const wrong = new SshExecutor('rls-2', {
      ...sshd.hostConfig(),
      knownHostsPath: sshd.wrongKnownHostsPath,
    });
    const error = await wrong.run(['touch', marker], { timeoutMs: 5000 }).catch((e: unknown) => e);
    await wrong.close();
    const presented = execFileSync('ssh-keygen', ['-lf', join(sshd.dir, 'host_ed25519.pub')])
      .toString()
      .split(' ')[1];
    expect(error).toBeInstanceOf(HostKeyError);
    expect(error).toMatchObject({ code: 'HOST_KEY', presentedFingerprint: presented });
    expect((error as Error).message).toContain(`[127.0.0.1]:${sshd.port}`);
    expect((error as Error).message).toContain(presented as string);
    expect((error as Error).message).toMatch(/does not match/);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a host that known_hosts does not list at all', async () => {
    const empty = join(sshd.dir, 'known_hosts.empty');
    writeFileSync(empty, '# nothing here\n');
    const unknown = new SshExecutor('rls-3', { ...sshd.hostConfig(), knownHostsPath: empty });
    const error = await unknown.run(['true'], { timeoutMs: 5000 }).catch((e: unknown) => e);
    await unknown.close();
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as Error).message).toMatch(
      /host key ssh-ed25519 SHA256:\S+ presented by \[127\.0\.0\.1\]:\d+ is unknown/,
    );
  });

  it('accepts a hashed known_hosts entry (ssh-keygen -H)', async () => {
    const hashed = join(sshd.dir, 'known_hosts.hashed');
    writeFileSync(hashed, readFileSync(sshd.knownHostsPath));
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    expect(readFileSync(hashed, 'utf8')).toMatch(/^\|1\|/);
    const viaHash = new SshExecutor('rls-6', { ...sshd.hostConfig(), knownHostsPath: hashed });
    const result = await viaHash.run(['echo', 'ok'], { timeoutMs: 5000 });
    await viaHash.close();
    expect(result.stdoutTail).toBe('ok\n');
  });

  it('fails fast on a host that never answers and on a missing key file', async () => {
    const blackhole = await startBlackhole();
    const silent = new SshExecutor('rls-7', {
      ...sshd.hostConfig(),
      port: blackhole.port,
      connectTimeoutMs: 300,
    });
    const timeout = await silent.run(['true'], { timeoutMs: 5000 }).catch((e: unknown) => e);
    await silent.close();
    await blackhole.close();
    // The connect timeout (300 ms) ended the wait, not the command's (5000 ms).
    expect(timeout).toMatchObject({ code: 'SSH_CONNECT_TIMEOUT' });
    expect((timeout as Error).message).toMatch(/no SSH handshake within 300 ms/);

    const keyless = new SshExecutor('rls-8', { ...sshd.hostConfig(), keyPath: join(sshd.dir, 'missing') });
    await expect(keyless.run(['true'], { timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'SSH_CONFIG',
      message: expect.stringContaining('cannot read private key'),
    });
  });

  it('reports a refused key and a closed port as SshErrors with context, never key material', async () => {
    const otherKey = join(sshd.dir, 'other_ed25519');
    const badKey = new SshExecutor('rls-4', { ...sshd.hostConfig(), keyPath: otherKey });
    const auth = await badKey.run(['true'], { timeoutMs: 5000 }).catch((e: unknown) => e);
    await badKey.close();
    expect(auth).toMatchObject({ code: 'SSH_AUTH', context: { node: 'rls-4', port: sshd.port } });
    expect((auth as Error).message).toContain(otherKey);
    expect((auth as Error).message).not.toContain(readFileSync(otherKey, 'utf8').split('\n')[1]);

    const nobody = new SshExecutor('rls-5', { ...sshd.hostConfig(), port: await closedPort() });
    const refused = await nobody.run(['true'], { timeoutMs: 5000 }).catch((e: unknown) => e);
    await nobody.close();
    expect(refused).toBeInstanceOf(SshError);
    expect(refused).toMatchObject({ code: 'SSH_CONNECTION' });
    expect((refused as Error).message).toMatch(/ECONNREFUSED/);
  });
});

describe('HostExecutors', () => {
  const node = (name: string, host?: SqlNode['host']): SqlNode => ({
    name,
    db: {
      engine: 'postgres',
      host: '127.0.0.1',
      port: 5432,
      database: 'cm',
      user: 'cm',
      connectTimeoutMs: 1000,
      statementTimeoutMs: 1000,
    },
    ...(host ? { host } : {}),
  });

  it('makes one executor per node by transport, redacting the given secrets, and closes them all', async () => {
    const sshd = await startSshd();
    const registry = new HostExecutors({ secrets: ['pw-123'] });
    try {
      const remote = registry.get(node('rls-1', sshd.hostConfig()));
      expect(remote).toBeInstanceOf(SshExecutor);
      expect(registry.get(node('rls-1', sshd.hostConfig()))).toBe(remote);
      expect(registry.get(node('demo-1', { transport: 'local' }))).toBeInstanceOf(LocalExecutor);
      const result = await remote.run(['echo', 'pw-123'], { timeoutMs: 5000 });
      expect(result.stdoutTail).toBe('[redacted]\n');
      expect(() => registry.get(node('mls'))).toThrow(HostConfigError);
      expect(() => registry.get(node('mls'))).toThrow('node mls has no host configured');
    } finally {
      await registry.closeAll();
      await sshd.stop();
    }
    await expectNoLeakedHandles();
  });
});

describe('SshExecutor when the server dies mid-command', () => {
  it('rejects with SshError, never a success, and does not reuse the dead connection', async () => {
    const sshd = await startSshd();
    const ssh = new SshExecutor('rls-1', sshd.hostConfig());
    try {
      expect((await ssh.run(['true'], { timeoutMs: 5000 })).exitCode).toBe(0);
      const running = ssh.run(['sleep', '5'], { timeoutMs: 10_000 });
      const outcome = running.catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await sshd.kill();
      // A rejection, not a result: the command's timeout (10 s) would have resolved with timedOut.
      const error = await outcome;
      expect(error).toBeInstanceOf(SshError);
      expect(error).toMatchObject({ code: 'SSH_CONNECTION', context: { command: 'sleep' } });
      expect((error as Error).message).toMatch(/outcome unknown/);
      await expect(ssh.run(['true'], { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'SSH_CONNECTION' });
    } finally {
      await ssh.close();
      await sshd.stop();
    }
    await expectNoLeakedHandles();
  });
});
