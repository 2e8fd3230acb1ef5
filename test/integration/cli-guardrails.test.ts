/**
 * The first half hour of a new user: the real `recover` binary, each mistake answered with one
 * line that says what to do (no stack trace), and the commands that need no topology file work
 * without one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceUrls } from '../../src/config/env';
import { closedPort } from '../helpers/blackhole';
import { dropPrefix } from '../helpers/engine';
import { runRecover } from '../helpers/run-cli';

jest.setTimeout(120_000);

const dir = mkdtempSync(join(tmpdir(), 'recover-guard-'));
const prefix = `t-guard-${process.pid}`;
const noFile = join(dir, 'recover.yaml'); // never written
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropPrefix(prefix);
});

const oneLine = (text: string) => {
  expect(text.trim().split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/^\s+at /m);
};

it('Redis down: one line naming where and what to do, exit 1', async () => {
  const r = await runRecover(['runs'], {
    REDIS_URL: `redis://:s3cret@127.0.0.1:${await closedPort()}`,
    RECOVER_CONFIG: noFile,
  });
  expect(r.code).toBe(1);
  oneLine(r.stderr);
  expect(r.stderr).toMatch(
    /^recover: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? \(ECONNREFUSED\)/,
  );
  expect(r.stderr).toContain('npm run services');
  expect(r.stderr).not.toContain('s3cret');
});

it('no config file: one line saying how to give one, exit 2', async () => {
  const r = await runRecover(['status'], { RECOVER_CONFIG: noFile });
  expect(r.code).toBe(2);
  oneLine(r.stderr);
  expect(r.stderr).toContain(`${noFile}: no such file. Pass --config FILE (or set RECOVER_CONFIG)`);
});

it('runs and timeline read only Redis: no topology file needed', async () => {
  const env = { REDIS_URL: serviceUrls().redisUrl, RECOVER_REDIS_PREFIX: prefix, RECOVER_CONFIG: noFile };
  const runs = await runRecover(['runs'], env);
  expect(runs.code).toBe(0);
  expect(runs.stdout).toMatch(/^RUN\s+TOPOLOGY\s+RUNBOOK/);
  const timeline = await runRecover(['timeline', 'prod-live-20260101-000000-0000'], env);
  expect(timeline.code).toBe(2);
  expect(timeline.stderr).toContain('recover: no run "prod-live-20260101-000000-0000"');
  // A file named with --config must still exist.
  const named = await runRecover(['runs', '--config', noFile], env);
  expect(named.code).toBe(2);
});

describe('a second demo in the same clone', () => {
  let first: ChildProcess;
  afterAll(() => first?.kill('SIGKILL'));

  it('refuses with the running one’s pid and leaves its files and servers alone', async () => {
    // The first demo, as far as the second can tell: a live node process owning .demo/.
    first = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
    const demoDir = join(dir, '.demo');
    mkdirSync(demoDir, { recursive: true });
    writeFileSync(join(demoDir, 'owner.pid'), `${first.pid}\n`);
    writeFileSync(join(demoDir, 'recover.yaml'), 'the first demo’s\n');
    const r = await runRecover(['demo', '--dir', dir], { HOME: process.env.HOME ?? dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`a demo is already running in this clone (pid ${first.pid})`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(readFileSync(join(demoDir, 'recover.yaml'), 'utf8')).toBe('the first demo’s\n');
    expect(first.exitCode).toBeNull();
    expect(existsSync(join(demoDir, 'owner.pid'))).toBe(true);
  });
});
