import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRecover, type CliResult } from '../helpers/run-cli';

/**
 * `npm run demo` end to end, driven by a script on stdin as a person would type it: the real
 * embedded PostgreSQL, a redis-server of its own, local Live Server processes, the BullMQ worker
 * and the chat shell. Afterwards nothing the demo started may still run.
 */
describe('the demo, scripted', () => {
  const root = mkdtempSync(join(tmpdir(), 'recover-demo-'));
  chmodSync(root, 0o755); // a project directory as a clone makes it: PostgreSQL's data goes under .demo/
  const demoDir = join(root, '.demo');
  let result: CliResult;
  let pgPort: number;
  let redisPort: number;
  let liveServerPids: number[];

  beforeAll(async () => {
    const script = readFileSync(join(__dirname, '..', 'fixtures', 'demo-walkthrough.txt'), 'utf8');
    // No REDIS_URL: the demo starts its own redis-server, as on a new user's machine.
    result = await runRecover(['demo', '--dir', root], { HOME: process.env.HOME ?? root }, { stdin: script });
    if (!existsSync(join(demoDir, 'recover.yaml')))
      throw new Error(`the demo did not start:\n${result.stderr}`);
    pgPort = Number(/port: (\d+)/.exec(readFileSync(join(demoDir, 'recover.yaml'), 'utf8'))?.[1]);
    redisPort = Number(/started Redis at redis:\/\/127\.0\.0\.1:(\d+)/.exec(result.stderr)?.[1]);
    liveServerPids = liveServerPidsUnder(demoDir);
  }, 180_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** The transcript from the line typed as `prompt` up to the next prompt. */
  function answerTo(prompt: string, nth = 0): string {
    const parts = result.stdout.split(/^(?=(?:alice|bob)> )/m);
    const hits = parts.filter((p) => p.startsWith(prompt));
    return hits[nth] ?? '';
  }

  it('runs to the end and stops cleanly', () => {
    expect(result.stderr).toContain('demo: stopped; nothing is left running');
    expect(result.code).toBe(0);
    expect(existsSync(join(demoDir, 'pg', 'PG_VERSION'))).toBe(true); // a real cluster, under .demo/
  });

  it('status shows the proposal: restore from rls-1, rebuild rls-3 and rls-4', () => {
    const status = answerTo('alice> /recover status');
    expect(status).toContain('Dedicated sequence number: 1042; dedicated slave: `rls-1`');
    expect(status).toMatch(/rls-4\W.*ReplicatorIdTable has 3 rows: restore from dedicated backup/);
    expect(status).toContain('To restore from the dedicated backup: rls-3, rls-4');
    // The crashed master never reads as "ok": its Live Server's service is read beside its database.
    expect(status).toMatch(/^\s+mls\s+master\s+postgres\s+(SERVICE DOWN|UNREACHABLE|ERROR)\s/m);
    expect(status).toMatch(/\[\d+\] Plan master-from-slave/);
  });

  it('shows the plan with its Start button', () => {
    const plan = answerTo('alice> /recover plan demo master-from-slave');
    expect(plan).toContain('== Plan: master-from-slave on demo ==');
    expect(plan).toMatch(/\[\d+\] Start/);
  });

  it('refuses alice, who started the run, and takes bob, five gates in all', () => {
    expect(answerTo('alice> yes')).toMatch(/Run `demo-\d{8}-\d{6}-[0-9a-f]{4}`: awaiting-approval/);
    const refused = answerTo('alice> /click Approve');
    expect(refused).toContain('(only alice sees this)');
    expect(refused).toContain('alice started this run and cannot approve it');
    expect(refused).not.toContain('Approved by');
    for (let gate = 0; gate < 5; gate++)
      expect(answerTo('bob> /click Approve', gate)).toMatch(/Approved by bob at \d\d:\d\d UTC/);
    expect(result.stdout.match(/Approved by /g)).toHaveLength(5);
  });

  it('completes the run and leaves every node at the dedicated backup, ReplicatorIdTable empty', () => {
    expect(answerTo('bob> /click Approve', 4)).toMatch(/Run `demo-[^`]+` finished: every step done/);
    expect(answerTo('bob> /recover runs')).toMatch(
      /`demo-\S+` `master-from-slave` · done · by alice · \d\d:\d\d UTC/,
    );
    const after = answerTo('bob> /recover status');
    // NODE ROLE ENGINE STATE REMOTE LOCAL TAG REPL-ID-ROWS SERVER-TYPE LAST-CHANGELOG: read back over SQL.
    for (const node of ['mls', 'rls-1', 'rls-2', 'rls-3', 'rls-4'])
      expect(after).toMatch(
        new RegExp(
          `^\\s+${node}\\s+(master|slave)\\s+postgres\\s+ok\\s+1042\\s+1042\\s+tag-1042\\s+0\\s+\\S+\\s+1042 tag-1042`,
          'm',
        ),
      );
    expect(after).not.toContain('restore from dedicated backup');
    expect(after).toMatch(/^\s+mls\s+master\s+postgres\s+ok\s.*\srunning\s*$/m);
  });

  it('leaves nothing running: PostgreSQL, Redis and the Live Servers are stopped', async () => {
    expect(pgPort).toBeGreaterThan(0);
    expect(redisPort).toBeGreaterThan(0);
    expect(await listening(pgPort)).toBe(false);
    expect(await listening(redisPort)).toBe(false);
    expect(liveServerPids.length).toBeGreaterThan(0);
    expect(await leftovers(demoDir, liveServerPids)).toEqual([]);
  });
});

describe('the demo, left at once', () => {
  const root = mkdtempSync(join(tmpdir(), 'recover-demo-quit-'));
  chmodSync(root, 0o755);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('stops every Live Server even when /quit comes before they are up', async () => {
    const result = await runRecover(
      ['demo', '--dir', root],
      { HOME: process.env.HOME ?? root },
      { stdin: '/quit\n' },
    );
    expect(result.code).toBe(0);
    const pids = liveServerPidsUnder(join(root, '.demo'));
    expect(pids).toHaveLength(4); // the four slaves were up (the crashed master was not)
    expect(await leftovers(join(root, '.demo'), pids)).toEqual([]);
  }, 60_000);
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The pids the demo's Live Server pid files name. */
function liveServerPidsUnder(demoDir: string): number[] {
  const hosts = join(demoDir, 'hosts');
  return readdirSync(hosts)
    .map((n) => join(hosts, n, 'bin', 'live-server.pid'))
    .filter((f) => existsSync(f))
    .map((f) => Number(readFileSync(f, 'utf8')));
}

/** Processes of the demo still running: its Live Servers, or anything started under its directory. */
async function leftovers(demoDir: string, liveServerPids: number[]): Promise<string[]> {
  // A Live Server stops 0.3 s after being told; the demo has exited, so give them that.
  await new Promise((r) => setTimeout(r, 500));
  const live = liveServerPids.filter(alive).map((pid) => `live server ${pid}`);
  const under = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(demoDir);
      } catch {
        return false;
      }
    })
    .map((p) => `process ${p}`);
  return [...live, ...under];
}

/** Running (a zombie waiting for its reaper is not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
