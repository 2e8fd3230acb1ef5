import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { startMultisiteFamily, type MsimFamily } from '../helpers/msim/family';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

/**
 * SYSTEMS.md 1.6 properties of the MultiSite simulator's synchronization (CLIs run on the hosts
 * as the SSH user; packets travel over the real sshd): convergence, idempotent and ordered
 * import, and the packet faults of 1.5.
 */
jest.setTimeout(60_000);

let family: MsimFamily | undefined;
afterEach(async () => {
  await family?.close();
  family = undefined;
});
afterAll(() => expectNoLeakedHandles());

const start = (replicas = ['boston', 'paris', 'tokyo']) =>
  startMultisiteFamily({ dialect: 'clearquest', replicas }).then((f) => (family = f));

async function exportTo(f: MsimFamily, from: string, to: string) {
  const r = await f.run(
    from,
    'multiutil',
    f.command(from, 'syncreplica', ['-export', '-fship', to]).slice(1),
  );
  expect(r.code).toBe(0);
  return r;
}
const importAt = (f: MsimFamily, at: string) =>
  f.run(at, 'multiutil', f.command(at, 'syncreplica', ['-import', '-receive']).slice(1));
const incoming = (f: MsimFamily, at: string) =>
  readdirSync(join(f.host(at).bay, 'incoming')).filter((n) => n.startsWith('sync_'));

it('with no loss, every actual row converges whatever the order of writes and syncs', async () => {
  const f = await start();
  const names = f.hosts.map((h) => h.replica);
  let seed = 7;
  const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), (seed >>> 16) % n);
  for (let i = 0; i < 9; i++) {
    const at = names[next(3)]!;
    await f.write(at, `${at}-${i}`);
    if (next(2) === 0) await f.sync(at, [names.filter((n) => n !== at)[next(2)]!]);
  }
  for (const at of names) await f.sync(at); // each replica's own ops reach every other directly
  const rows = await Promise.all(names.map(async (n) => (await f.state(n)).epochRow));
  expect(rows[1]).toEqual(rows[0]);
  expect(rows[2]).toEqual(rows[0]);
  const total = Object.values(rows[0]!).reduce((a, b) => a + b, 0);
  expect(total).toBe(9);
  const recs = await Promise.all(names.map((n) => f.records(n)));
  expect(recs[1]).toEqual(recs[0]);
  expect(recs[2]).toEqual(recs[0]);
});

it('a packet delivered twice is imported once; the copy is a no-op', async () => {
  const f = await start(['boston', 'paris']);
  await f.write('boston', 'b1');
  f.faults.duplicateNextPacket('paris');
  await exportTo(f, 'boston', 'paris');
  expect(incoming(f, 'paris')).toHaveLength(2);
  const r = await importAt(f, 'paris');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Applied sync\. packet .* \(1 new operations, 0 already present\)/);
  expect(r.stdout).toMatch(/^Packet \S+_dup was already imported; ignored$/m);
  expect(await f.records('paris')).toEqual([{ origin: 'boston', oid: 1, payload: 'b1' }]);
  expect(incoming(f, 'paris')).toHaveLength(0);
});

it('a packet whose predecessor has not arrived waits; import applies packets in order whatever the arrival order', async () => {
  const f = await start(['boston', 'paris']);
  const bay = join(f.host('paris').bay, 'incoming');
  await f.write('boston', 'b1');
  const first = (await exportTo(f, 'boston', 'paris')).stdout.match(/sync_paris_\S+/)![0];
  await f.write('boston', 'b2');
  await exportTo(f, 'boston', 'paris');
  renameSync(join(bay, first), join(bay, '..', first)); // the first one is still on its way

  const early = await importAt(f, 'paris');
  expect(early.stdout).toMatch(
    /cannot be imported yet: it needs earlier operations from "boston" that have not arrived/,
  );
  expect((await f.state('paris')).epochRow.boston).toBe(0);
  const ls = await f.run('paris', 'multiutil', f.command('paris', 'lspacket', ['-long']).slice(1));
  expect(ls.stdout).toContain('  Importable: no (waiting for earlier operations from boston)');
  expect(ls.stdout).toContain('  Recipients: paris\n');

  renameSync(join(bay, '..', first), join(bay, first));
  const late = await importAt(f, 'paris');
  expect(late.stdout.match(/Applied sync\. packet \S+/g)).toHaveLength(2);
  expect((await f.records('paris')).map((r) => r.payload)).toEqual(['b1', 'b2']);

  // The same through the shipping fault: the next packet is held until the following one lands.
  f.faults.reorderNextPackets('paris');
  await f.write('boston', 'b3');
  await exportTo(f, 'boston', 'paris');
  expect(incoming(f, 'paris')).toHaveLength(0);
  await f.write('boston', 'b4');
  await exportTo(f, 'boston', 'paris');
  expect(incoming(f, 'paris')).toHaveLength(2);
  expect((await importAt(f, 'paris')).code).toBe(0);
  expect((await f.records('paris')).map((r) => r.payload)).toEqual(['b1', 'b2', 'b3', 'b4']);
});

it('a truncated packet fails its checksum and changes nothing; a lost one leaves the receiver behind', async () => {
  const f = await start(['boston', 'paris']);
  await f.write('boston', 'b1');
  f.faults.truncateNextPacket('paris');
  await exportTo(f, 'boston', 'paris');
  const ls = await f.run('paris', 'multiutil', f.command('paris', 'lspacket', ['-long']).slice(1));
  expect(ls.code).toBe(1); // unknown, not "nothing pending"
  expect(ls.stderr).toMatch(
    /^Multiutil: Error: Packet `\S+sync_paris_\S+' is unreadable: packet checksum mismatch$/m,
  );
  const r = await importAt(f, 'paris');
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(
    /multiutil: Error: Packet \S+ is corrupt \(packet (is truncated|checksum mismatch)/,
  );
  expect(await f.state('paris')).toMatchObject({ ops: 0, epochRow: { boston: 0 } });
  expect(readdirSync(join(f.host('paris').bay, 'incoming', 'rejected'))).toHaveLength(1);

  f.faults.dropNextPacket('paris');
  await f.write('boston', 'b2');
  const shipped = await exportTo(f, 'boston', 'paris');
  expect(shipped.stdout).toContain('-- Forwarded/delivered packet'); // the sender cannot tell
  expect(incoming(f, 'paris')).toHaveLength(0);
  expect((await f.state('paris')).ops).toBe(0);
});

it('an import killed right after a commit is safe to re-run', async () => {
  const f = await start(['boston', 'paris']);
  await f.write('boston', 'b1');
  await exportTo(f, 'boston', 'paris');
  await f.write('boston', 'b2');
  await exportTo(f, 'boston', 'paris');
  f.faults.killNextImport('paris');
  const killed = await importAt(f, 'paris');
  expect(killed.code).not.toBe(0);
  expect(incoming(f, 'paris')).toHaveLength(2); // the committed packet's file is still there
  const again = await importAt(f, 'paris');
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/was already imported; ignored/);
  expect((await f.records('paris')).map((r) => r.payload)).toEqual(['b1', 'b2']);
  expect(existsSync(join(f.host('paris').bay, 'incoming', 'rejected'))).toBe(false);
});

it('an export that needs scrubbed oplog entries fails with "Cannot find oplog entry" and changes nothing', async () => {
  const f = await start();
  await f.write('boston', 'b1');
  await f.sync('boston', ['paris']);
  await f.faults.scrubOplog('paris');
  const r = await f.run(
    'paris',
    'multiutil',
    f.command('paris', 'syncreplica', ['-export', '-fship', 'tokyo']).slice(1),
  );
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^multiutil: Error: Cannot find oplog entry 1 for replica "boston" \(scrubbed\)/m);
  expect(readdirSync(join(f.host('paris').bay, 'outgoing'))).toEqual([]);
  expect((await f.records('paris')).map((x) => x.payload)).toEqual(['b1']); // records stay
});
