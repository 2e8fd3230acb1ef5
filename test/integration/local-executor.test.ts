import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalExecError, LocalExecutor } from '../../src/hosts/local-executor';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

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

describe('LocalExecutor', () => {
  const local = new LocalExecutor('demo-1', { secrets: ['s3cr3t-Value'], killGraceMs: 300 });
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recover-local-'));
  });

  afterAll(async () => {
    await local.close();
    rmSync(dir, { recursive: true, force: true });
    await expectNoLeakedHandles();
  });

  it('runs a program and reports exit code, output and duration', async () => {
    const result = await local.run(['echo', 'hello'], { timeoutMs: 5000 });
    expect(result).toMatchObject({
      exitCode: 0,
      signal: null,
      stdoutTail: 'hello\n',
      stderrTail: '',
      timedOut: false,
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const failed = await local.run(['sh', '-c', 'echo oops >&2; exit 3'], { timeoutMs: 5000 });
    expect(failed).toMatchObject({ exitCode: 3, stderrTail: 'oops\n' });
  });

  it('uses no shell: metacharacters are data', async () => {
    const marker = join(dir, 'must-not-exist');
    const result = await local.run(['printf', '%s\\0', ...NASTY, `; touch ${marker}`], { timeoutMs: 5000 });
    expect(result.stdoutTail.split('\0').slice(0, -1)).toEqual([...NASTY, `; touch ${marker}`]);
    const echoed = await local.run(['echo', '; rm -rf /'], { timeoutMs: 5000 });
    expect(echoed.stdoutTail).toBe('; rm -rf /\n');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync('/tmp/recover-pwned')).toBe(false);
  });

  it('keeps only the last 8 KiB of a 1 MB output, per stream', async () => {
    const script =
      'head -c 1048576 /dev/zero | tr "\\0" a; printf END; head -c 100000 /dev/zero | tr "\\0" e >&2';
    const result = await local.run(['sh', '-c', script], { timeoutMs: 10_000 });
    expect(Buffer.byteLength(result.stdoutTail)).toBe(8192);
    expect(result.stdoutTail.endsWith('aaaEND')).toBe(true);
    expect(result.stderrTail).toBe('e'.repeat(8192));
  });

  it('times out with SIGTERM, ending the children too', async () => {
    const child = ['sleep', '5.432'];
    const result = await local.run(['sh', '-c', `${child.join(' ')}; echo never`], { timeoutMs: 300 });
    // Ended, not finished: no exit code, no "never", and the sleep is gone.
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
    expect(result.stdoutTail).toBe('');
    expect(processesRunning(child)).toBe(0);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const result = await local.run(
      ['sh', '-c', 'trap "" TERM; sleep 5.123 & wait; sleep 5.124; echo never'],
      {
        timeoutMs: 200,
      },
    );
    // Killed, not finished: the sleeps (which ignore SIGTERM too) are gone and "never" never came.
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL', stdoutTail: '' });
    expect(processesRunning(['sleep', '5.123']) + processesRunning(['sleep', '5.124'])).toBe(0);
  });

  it('delivers stdin and closes it; a program that ignores stdin is fine', async () => {
    expect((await local.run(['cat'], { timeoutMs: 5000, stdin: 'line 1\nline 2\n' })).stdoutTail).toBe(
      'line 1\nline 2\n',
    );
    const large = await local.run(['wc', '-c'], { timeoutMs: 5000, stdin: Buffer.alloc(300_000, 'x') });
    expect(large.stdoutTail.trim()).toBe('300000');
    const ignores = await local.run(['true'], { timeoutMs: 5000, stdin: Buffer.alloc(1_000_000, 'x') });
    expect(ignores.exitCode).toBe(0);
  });

  it('redacts secrets and password assignments from both tails', async () => {
    const script = 'echo "PGPASSWORD=hunter2 psql"; echo key s3cr3t-Value; echo s3cr3t-Value >&2';
    const result = await local.run(['sh', '-c', script], { timeoutMs: 5000 });
    expect(result.stdoutTail).toBe('PGPASSWORD=[redacted] psql\nkey [redacted]\n');
    expect(result.stderrTail).toBe('[redacted]\n');
  });

  it('never shows half a secret where the 8 KiB tail cuts into it', async () => {
    // The secret starts 4 bytes before the tail's first byte: only its end would be visible.
    const after = 8192 - 8;
    const script = `printf 'x%.0s' $(seq 1 5000); printf s3cr3t-Value; head -c ${after} /dev/zero | tr "\\0" z`;
    const result = await local.run(['bash', '-c', script], { timeoutMs: 5000 });
    expect(result.stdoutTail).toBe(`[redacted]${'z'.repeat(after)}`);
    expect(result.stdoutTail).not.toContain('alue');
  });

  it('does not wait for a background process that keeps the pipes open', async () => {
    // The background process holds stdout and stderr open until the test lets it go (at most 30 s).
    const dir = mkdtempSync(join(tmpdir(), 'recover-bg-'));
    const go = join(dir, 'go');
    const done = join(dir, 'done');
    const background = `i=0; while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; touch "$2"`;
    try {
      const result = await local.run(
        ['sh', '-c', `sh -c '${background}' bg "$0" "$1" & echo started`, go, done],
        {
          timeoutMs: 5000,
        },
      );
      expect(result).toMatchObject({ exitCode: 0, stdoutTail: 'started\n', timedOut: false });
      // Returned while the background process was still waiting for "go": it did not wait for it.
      expect(existsSync(done)).toBe(false);
    } finally {
      writeFileSync(go, '');
      // Let the background process write "done" before the directory goes, or rmdir races it.
      for (let i = 0; i < 100 && !existsSync(done); i++) await new Promise((r) => setTimeout(r, 50));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects clearly when the program does not exist', async () => {
    const error = await local.run(['/nonexistent/live-server'], { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalExecError);
    expect(error).toMatchObject({ code: 'SPAWN', node: 'demo-1' });
    expect((error as Error).message).toMatch(/\/nonexistent\/live-server.*ENOENT/);
  });
});
