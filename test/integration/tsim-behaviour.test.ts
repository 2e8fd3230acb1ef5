import { tsimFileHooks } from '../helpers/tsim/app-cluster-hooks';
import { until } from '../helpers/until';

jest.setTimeout(60_000);

const sim = tsimFileHooks();

const status = async (host: string): Promise<Record<string, string>> => {
  const r = await sim.ssh.run(host, 'trepctl', ['-service', 'alpha', 'status']);
  expect(r.code).toBe(0);
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .map((l) => /^(\w+)\s*: (.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] as string, m[2] as string]),
  );
};
const cctrl = (lines: string[]) => sim.ssh.run('host1', 'cctrl', ['-expert'], `${lines.join('\n')}\n`);
const trep = async (host: string) =>
  (await sim.cluster.mysql(
    host,
    'SELECT seqno, epoch_number, source_id, eventid FROM tungsten_alpha.trep_commit_seqno',
  )) as {
    seqno: number;
    epoch_number: number;
    source_id: string;
    eventid: string;
  }[];

/** Shun host, take its replicator offline, purge its THL, set the position, recover. */
async function resetReplica(
  host: string,
  pos: { seqno: number; epoch: number; eventId: string; sourceId: string },
) {
  expect((await cctrl([`datasource ${host} shun`, `replicator ${host} offline`])).stdout).toContain(
    `DataSource '${host}' set to SHUNNED`,
  );
  expect((await sim.ssh.run(host, 'thl', ['-service', 'alpha', 'purge', '-y'])).code).toBe(0);
  const set = await sim.ssh.run(host, 'dsctl', [
    '-service', 'alpha', 'set', '-reset',
    '-seqno', String(pos.seqno), '-epoch', String(pos.epoch),
    '-event-id', pos.eventId, '-source-id', pos.sourceId,
  ]); // prettier-ignore
  expect(set).toMatchObject({ code: 0 });
  return cctrl([`datasource ${host} recover`]);
}

test('writes replicate and trep_commit_seqno moves with the applied row, in one transaction', async () => {
  const w = await sim.cluster.write('INSERT INTO app.t VALUES (?, ?)', [1, 'one']);
  expect(w.position).toMatch(/^mysql-bin\.\d{6}:\d+$/);
  await sim.cluster.waitForCatchUp();
  for (const host of ['host2', 'host3']) {
    expect(await sim.cluster.mysql(host, 'SELECT v FROM app.t WHERE id = 1')).toEqual([{ v: 'one' }]);
    const [row] = await trep(host);
    expect(row).toMatchObject({ seqno: w.seqno, epoch_number: 0, source_id: 'host1' });
    expect(row?.eventid).toBe(
      `${w.position.split(':')[0]}:${w.position.split(':')[1]?.padStart(16, '0')};-1`,
    );
  }
  // A row that already exists on host3 makes the apply fail: the error names it and the trep
  // row stays at the last applied event (its update was rolled back with the failed statement).
  await sim.cluster.mysql('host3', 'INSERT INTO app.t VALUES (2, ?)', ['local']);
  const w2 = await sim.cluster.write('INSERT INTO app.t VALUES (?, ?)', [2, 'two']);
  await until(
    'host3 OFFLINE:ERROR',
    async () => sim.cluster.replicatorState('host3') === 'OFFLINE:ERROR',
    10_000,
    50,
  );
  const s3 = await status('host3');
  expect(s3).toMatchObject({ state: 'OFFLINE:ERROR', pendingErrorSeqno: String(w2.seqno) });
  expect(s3.pendingExceptionMessage).toContain('Duplicate entry');
  expect((await trep('host3'))[0]?.seqno).toBe(w.seqno);
  // Skipping the event brings it back.
  await sim.cluster.mysql('host3', 'DELETE FROM app.t WHERE id = 2');
  expect(
    (await sim.ssh.run('host3', 'trepctl', ['-service', 'alpha', 'online', '-skip-seqno', String(w2.seqno)]))
      .code,
  ).toBe(0);
  await until('host3 ONLINE', async () => sim.cluster.replicatorState('host3') === 'ONLINE', 10_000, 50);
  await sim.cluster.waitForCatchUp();
  expect((await trep('host3'))[0]?.seqno).toBe(w2.seqno);
});

test('thl purge is refused while the replicator is ONLINE and works once it is OFFLINE', async () => {
  const refused = await sim.ssh.run('host2', 'thl', ['-service', 'alpha', 'purge', '-y']);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toContain('Fatal error:  The disk log is not writable and cannot be purged.');
  expect((await sim.ssh.run('host2', 'trepctl', ['-service', 'alpha', 'offline'])).code).toBe(0);
  const asked = await sim.ssh.run('host2', 'thl', ['-service', 'alpha', 'purge'], 'n\n');
  expect(asked.stdout).toContain('Are you sure you wish to delete these events [y/N]?\nNothing done.\n');
  const purged = await sim.ssh.run('host2', 'thl', ['-service', 'alpha', 'purge', '-y']);
  expect(purged.code).toBe(0);
  expect(purged.stdout).toContain('Deleting events where');
  const info = await sim.ssh.run('host2', 'thl', ['-service', 'alpha', 'info']);
  expect(info.stdout).toContain('min seq# = -1');
  expect((await sim.ssh.run('host2', 'trepctl', ['-service', 'alpha', 'online'])).code).toBe(0);
  await until('host2 ONLINE', async () => sim.cluster.replicatorState('host2') === 'ONLINE', 10_000, 50);
});

test('dsctl set without -reset exits 3; recover on an ONLINE datasource is refused', async () => {
  const set = await sim.ssh.run('host2', 'dsctl', ['-service', 'alpha', 'set', '-seqno', '1', '-epoch', '0', '-event-id', 'mysql-bin.000001:4', '-source-id', 'host1']); // prettier-ignore
  expect(set.code).toBe(3);
  expect(set.stderr).toContain('Cannot set position unless existing position data is removed - reset first');
  const missing = await sim.ssh.run('host2', 'dsctl', ['-service', 'alpha', 'set', '-seqno', '1']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("Command 'set' requires options -seqno, -epoch, -event-id and -source-id");
  const rec = await cctrl(['datasource host2 recover']);
  expect(rec.stdout).toContain("DataSource 'host2' is not FAILED or SHUNNED and cannot be recovered.");
  expect(rec.stdout).toContain('[LOGICAL:EXPERT] /alpha > ');
});

test('a wrong epoch fails the handshake with "Log epoch numbers do not match"', async () => {
  const w = await sim.cluster.write('INSERT INTO app.t VALUES (?, ?)', [3, 'three']);
  await sim.cluster.waitForCatchUp();
  const [row] = await trep('host2');
  const out = await resetReplica('host2', {
    seqno: w.seqno,
    epoch: 42,
    eventId: String(row?.eventid),
    sourceId: 'host1',
  });
  expect(out.stdout).toContain("RECOVERING 'host2@alpha' TO A SLAVE USING 'host1@alpha' AS THE MASTER");
  const s = await status('host2');
  expect(s.state).toBe('OFFLINE:ERROR');
  expect(s.pendingExceptionMessage).toBe(
    'Client handshake failure: Client response validation failed: Log epoch numbers do not match: ' +
      `client source ID=host2 seqno=${w.seqno} server epoch number=0 client epoch number=42`,
  );
  // The right epoch recovers it.
  await resetReplica('host2', { seqno: w.seqno, epoch: 0, eventId: String(row?.eventid), sourceId: 'host1' });
  await until('host2 ONLINE', async () => sim.cluster.replicatorState('host2') === 'ONLINE', 10_000, 50);
});

test('a position the primary already purged fails with "Master log does not contain requested transaction"', async () => {
  const [old] = await trep('host3');
  for (let i = 10; i < 14; i++) await sim.cluster.write('INSERT INTO app.t VALUES (?, ?)', [i, `r${i}`]);
  await sim.cluster.waitForCatchUp();
  const max = Number((await status('host1')).appliedLastSeqno);
  await sim.cluster.faults.purgePrimaryThlBelow(max - 1);
  await resetReplica('host3', {
    seqno: Number(old?.seqno),
    epoch: 0,
    eventId: String(old?.eventid),
    sourceId: 'host1',
  });
  const s = await status('host3');
  expect(s.pendingExceptionMessage).toBe(
    'Client handshake failure: Client response validation failed: Master log does not contain requested transaction: ' +
      `client source ID=host3 seqno=${old?.seqno} epoch number=0 master min seqno=${max - 1} master max seqno=${max}`,
  );
});

test('wrongEpochOnNextHandshake: one handshake answered with another server epoch, the next one succeeds', async () => {
  await sim.cluster.faults.wrongEpochOnNextHandshake('host2', 999);
  expect((await sim.ssh.run('host2', 'trepctl', ['offline'])).code).toBe(0);
  expect((await sim.ssh.run('host2', 'trepctl', ['online'])).code).toBe(0);
  await until(
    'host2 error',
    async () => sim.cluster.replicatorState('host2') === 'OFFLINE:ERROR',
    10_000,
    50,
  );
  expect((await status('host2')).pendingExceptionMessage).toMatch(
    /Log epoch numbers do not match: client source ID=host2 seqno=\d+ server epoch number=999 client epoch number=0$/,
  );
  expect((await sim.ssh.run('host2', 'trepctl', ['online'])).code).toBe(0);
  await until('host2 ONLINE', async () => sim.cluster.replicatorState('host2') === 'ONLINE', 10_000, 50);
});

test('cctrl cannot reach a stopped manager: error and a non-zero exit', async () => {
  await sim.cluster.faults.stopManager();
  const r = await cctrl(['ls']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('Unable to connect to the manager');
  await sim.cluster.faults.startManager();
  const ls = await cctrl(['ls']);
  expect(ls.code).toBe(0);
  expect(ls.stdout).toContain('COORDINATOR[host1:AUTOMATIC:ONLINE]');
});

it('a write made straight on the primary (not through cluster.write) is extracted from its binlog and replicates', async () => {
  // Earlier cases leave some replicas offline on purpose: look at the ones that are ONLINE.
  const online = ['host2', 'host3'].filter((h) => sim.cluster.replicatorState(h) === 'ONLINE');
  expect(online.length).toBeGreaterThan(0);
  await sim.cluster.mysql('host1', 'INSERT INTO app.t VALUES (?, ?)', [9001, 'direct']);
  await until(
    'the direct write to reach the ONLINE replicas',
    async () =>
      (
        await Promise.all(online.map((h) => sim.cluster.mysql(h, 'SELECT v FROM app.t WHERE id = 9001')))
      ).every((rows) => rows.length === 1),
    10_000,
  );
  const [primary] = await trep('host1');
  expect((await trep(online[0]!))[0]?.seqno).toBe(primary?.seqno);
});
