import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { startTungstenCluster, type TsimCluster } from '../helpers/tsim/cluster';
import { tsimSsh } from '../helpers/tsim/ssh-cli';
import { until } from '../helpers/until';

jest.setTimeout(60_000);

const FIXTURES = join(__dirname, '..', 'fixtures', 'tungsten');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
/** sim-* fixtures are simulator renderings: TSIM_UPDATE_GOLDEN=1 rewrites them. */
function golden(name: string, actual: string): void {
  if (process.env.TSIM_UPDATE_GOLDEN === '1' || !existsSync(join(FIXTURES, name)))
    writeFileSync(join(FIXTURES, name), actual);
  expect(actual).toBe(fixture(name));
}

/** The docs' event: seqno 7748 in thl.data.0000000010 of the primary db1-east.continuent.com. */
const DOC_EVENT = {
  seqno: 7748,
  fragno: 0,
  lastFrag: true,
  epoch: 0,
  time: '2014-10-17 16:58:11.0',
  eventid: 'mysql-bin.000032:0000000473863524;-1',
  comments: '',
  schema: '',
  sql: [],
};
const DOC_POSITION = 'mysql-bin.000032:0000000473863524';

describe('thlVersion 7 (the docs)', () => {
  let cluster: TsimCluster;
  let ssh: ReturnType<typeof tsimSsh>;

  beforeAll(async () => {
    cluster = await startTungstenCluster({
      sourceIdOf: (h) => (h === 'host1' ? 'db1-east.continuent.com' : h),
    });
    ssh = tsimSsh(cluster);
    await cluster.faults.appendThlEvent(
      'host1',
      { ...DOC_EVENT, sourceid: cluster.primary().sourceId },
      { newFile: 10 },
    );
    await cluster.waitForCatchUp();
  });
  afterAll(async () => {
    await ssh?.close();
    await cluster?.close();
  });

  test('thl list -event … -headers and thl dsctl -event … print the docs’ lines', async () => {
    const list = await ssh.run('host1', 'thl', [
      '-service',
      'alpha',
      'list',
      '-event',
      DOC_POSITION,
      '-headers',
    ]);
    expect(list).toEqual({ code: 0, stdout: fixture('doc-thl-list-event-headers.txt'), stderr: '' });
    const cmd = await ssh.run('host1', 'thl', ['dsctl', '-event', DOC_POSITION]);
    expect(cmd).toEqual({ code: 0, stdout: fixture('doc-thl-dsctl-event.txt'), stderr: '' });
    // One byte off: no exact event.
    const approx = await ssh.run('host1', 'thl', [
      'list',
      '-event',
      'mysql-bin.000032:473863523',
      '-headers',
    ]);
    expect(approx.code).toBe(1);
    expect(approx.stdout).toMatch(/^Event not found : /);
  });

  test('dsctl set -reset on the replica prints the position line; the docs’ trep row reads back via tpm mysql', async () => {
    const cctrl = await ssh.run(
      'host1',
      'cctrl',
      ['-expert'],
      'datasource host2 shun\nreplicator host2 offline\n',
    );
    expect(cctrl.stdout).toContain(
      "[LOGICAL:EXPERT] /alpha > datasource host2 shun\nDataSource 'host2' set to SHUNNED\n",
    );
    expect((await ssh.run('host2', 'thl', ['-service', 'alpha', 'purge', '-y'])).code).toBe(0);
    const args = ['-service', 'alpha', 'set', '-reset', '-seqno', '7748', '-epoch', '0'];
    const set = await ssh.run('host2', 'dsctl', [
      ...args,
      '-source-id',
      'db1-east.continuent.com',
      '-event-id',
      'mysql-bin.000032:0000000473863524',
    ]);
    expect(set).toEqual({ code: 0, stdout: fixture('doc-dsctl-set.txt'), stderr: '' });
    const recover = await ssh.run('host1', 'cctrl', [], 'datasource host2 recover\n');
    expect(recover.stdout).toContain('[LOGICAL] /alpha > datasource host2 recover\n');
    expect(recover.stdout).toContain("RECOVERY OF 'host2@alpha' WAS SUCCESSFUL");
    await until('host2 ONLINE', async () => cluster.replicatorState('host2') === 'ONLINE', 10_000, 50);

    // The docs' restored row (host3 offline so nothing overwrites it).
    await ssh.run('host1', 'cctrl', ['-expert'], 'replicator host3 offline\n');
    const row = ['-seqno', '32033674', '-epoch', '0', '-event-id', 'mysql-bin.000032:0000000473860407;-1'];
    expect((await ssh.run('host3', 'dsctl', ['set', '-reset', ...row, '-source-id', 'host1'])).code).toBe(0);
    const select = await ssh.run(
      'host3',
      'tpm',
      ['mysql'],
      'select seqno,source_id, eventid from tungsten_alpha.trep_commit_seqno\n',
    );
    expect(select).toEqual({ code: 0, stdout: fixture('doc-trep-commit-seqno.txt'), stderr: '' });
  });

  test('cctrl ls and trepctl status keep their layout', async () => {
    const ls = await ssh.run('host2', 'cctrl', ['-expert'], 'ls\n');
    const mask = (text: string) =>
      text
        .replace(/\[\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d [AP]M UTC\]/g, '[<time>]')
        .replace(/\[\d+\]\(ONLINE/g, '[<pid>](ONLINE')
        .replace(/latency=\d+\.\d{3}/g, 'latency=<n>');
    // Masked box lines keep the box's width.
    const boxed = (line: string) =>
      /^\|.*\|$/.test(line) ? `|${mask(line.slice(1, -1).trimEnd()).padEnd(line.length - 2)}|` : line;
    golden('sim-cctrl-ls.txt', ls.stdout.split('\n').map(boxed).join('\n'));
    const st = await ssh.run('host2', 'trepctl', ['-service', 'alpha', 'status']);
    golden(
      'sim-trepctl-status.txt',
      st.stdout.replace(
        /^(appliedLatency|currentTimeMillis|relativeLatency|timeInStateSeconds|uptimeSeconds)(\s*): .*$/gm,
        '$1$2: <n>',
      ),
    );
  });
});

describe('thlVersion 5 (the OSS code)', () => {
  let cluster: TsimCluster;
  let ssh: ReturnType<typeof tsimSsh>;

  beforeAll(async () => {
    cluster = await startTungstenCluster({
      thlVersion: '5',
      replicas: 1,
      channels: 3,
      sourceIdOf: (h) => (h === 'host1' ? 'db1-east.continuent.com' : h),
    });
    ssh = tsimSsh(cluster);
    await cluster.faults.appendThlEvent(
      'host1',
      { ...DOC_EVENT, sourceid: 'db1-east.continuent.com' },
      { newFile: 10 },
    );
  });
  afterAll(async () => {
    await ssh?.close();
    await cluster?.close();
    await expectNoLeakedHandles();
  });

  test('-headers is tab-delimited, -event and dsctl -reset are unknown, help tells which', async () => {
    const list = await ssh.run('host1', 'thl', ['-service', 'alpha', 'list', '-seqno', '7748', '-headers']);
    expect(list).toEqual({ code: 0, stdout: fixture('oss5-thl-list-headers.txt'), stderr: '' });
    const event = await ssh.run('host1', 'thl', ['list', '-event', DOC_POSITION, '-headers']);
    expect(event).toEqual({ code: 1, stdout: 'Unrecognized option: -event\n', stderr: '' });
    const reset = await ssh.run('host2', 'dsctl', ['set', '-reset', '-seqno', '1']);
    expect(reset).toEqual({ code: 1, stdout: '', stderr: 'Unrecognized option: -reset\n' });
    expect((await ssh.run('host1', 'thl', ['help'])).stdout).not.toContain('-event');
    expect((await ssh.run('host1', 'dsctl', ['help'])).stdout).not.toContain('-reset');
  });

  test('parallel apply: one dsctl row is expanded to every channel; a row count that fits no rule stops the replica', async () => {
    await cluster.write('CREATE DATABASE app');
    const w = await cluster.write('CREATE TABLE app.t (id INT PRIMARY KEY)');
    await cluster.waitForCatchUp();
    expect(
      await cluster.mysql('host2', 'SELECT COUNT(*) AS n FROM tungsten_alpha.trep_commit_seqno'),
    ).toEqual([{ n: 3 }]);
    expect((await ssh.run('host2', 'trepctl', ['offline'])).code).toBe(0);
    expect(await ssh.run('host2', 'dsctl', ['reset'])).toEqual({
      code: 0,
      stdout: 'Service "alpha" datasource "global" catalog information cleared\n',
      stderr: '',
    });
    const set = [
      'set',
      '-seqno',
      String(w.seqno),
      '-epoch',
      '0',
      '-event-id',
      'mysql-bin.000001:4',
      '-source-id',
      'host1',
    ];
    expect((await ssh.run('host2', 'dsctl', set)).code).toBe(0);
    expect((await ssh.run('host2', 'trepctl', ['online'])).code).toBe(0);
    await until('host2 ONLINE', async () => cluster.replicatorState('host2') === 'ONLINE', 10_000, 50);
    const rows = await cluster.mysql('host2', 'SELECT task_id, seqno FROM tungsten_alpha.trep_commit_seqno');
    expect(rows).toEqual([0, 1, 2].map((task_id) => ({ task_id, seqno: w.seqno })));

    expect((await ssh.run('host2', 'trepctl', ['offline'])).code).toBe(0);
    await cluster.mysql('host2', 'DELETE FROM tungsten_alpha.trep_commit_seqno WHERE task_id = 2');
    expect((await ssh.run('host2', 'trepctl', ['online'])).code).toBe(0);
    await until('host2 error', async () => cluster.replicatorState('host2') === 'OFFLINE:ERROR', 10_000, 50);
    expect((await ssh.run('host2', 'trepctl', ['status'])).stdout).toContain(
      'pendingExceptionMessage: Rows in trep_commit_seqno are inconsistent with channel count: channels=3 rows=2\n',
    );
  });
});
