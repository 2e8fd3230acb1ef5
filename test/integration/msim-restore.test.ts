import { startMultisiteFamily, type MsimFamily } from '../helpers/msim/family';
import { overSsh } from '../helpers/msim/over-ssh';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

/**
 * SYSTEMS.md 1.6 self-tests of the MultiSite simulator: the seed-002 restoration, driven by the
 * test step by step through the CLIs over each host's real sshd, on real PostgreSQL state.
 */
jest.setTimeout(60_000);

let family: MsimFamily | undefined;
let ssh: ReturnType<typeof overSsh> | undefined;

afterEach(async () => {
  await ssh?.close();
  await family?.close();
  ssh = family = undefined;
});

afterAll(() => expectNoLeakedHandles());

const UNLOCKED = 'Database SAMPL is unlocked after restoration.';

/**
 * History: boston b1 b2 → all, paris p1 → all, backup of boston (t), boston b3 b4 → all (its
 * last export, t2), boston b5 (never exported), then boston loses its storage and is restored.
 */
async function restoredBoston(f: MsimFamily, s: NonNullable<typeof ssh>): Promise<void> {
  await f.write('boston', 'b1');
  await f.write('boston', 'b2');
  await f.sync('boston');
  await f.write('paris', 'p1');
  await f.sync('paris');
  const { file, manifest } = await f.backup('boston');
  await f.write('boston', 'b3');
  await f.write('boston', 'b4');
  await f.sync('boston');
  await f.write('boston', 'b5');
  await f.loseStorage('boston');
  const restored = await s.run('boston', [`${f.host('boston').binDir}/msim-db`, 'restore', file]);
  expect(restored.code).toBe(0);
  expect(JSON.parse(await readText(s, 'boston', manifest)).ownRow).toMatchObject({ boston: 2, paris: 1 });
}

async function readText(s: NonNullable<typeof ssh>, replica: string, path: string): Promise<string> {
  return (await s.run(replica, ['cat', path])).out;
}

/** Steps 2–6 of the seed, siblings one after another. Returns boston's last import output. */
async function restoreProtocol(
  f: MsimFamily,
  s: NonNullable<typeof ssh>,
  siblings = ['paris', 'tokyo'],
): Promise<string> {
  const restore = await s.run('boston', f.command('boston', 'restorereplica'));
  expect(restore.code).toBe(0);
  const exported = await s.run(
    'boston',
    f.command('boston', 'syncreplica', ['-export', '-fship', ...siblings]),
  );
  expect(exported.code).toBe(0);
  for (const sib of siblings) {
    expect((await s.run(sib, f.command(sib, 'syncreplica', ['-import', '-receive']))).code).toBe(0);
    expect((await s.run(sib, f.command(sib, 'syncreplica', ['-export', '-fship', 'boston']))).code).toBe(0);
  }
  const imported = await s.run('boston', f.command('boston', 'syncreplica', ['-import', '-receive']));
  expect(imported.code).toBe(0);
  return imported.out;
}

it('restoring a replica recovers exactly its ops up to its last export, stays locked until every sibling acked, then unlocks', async () => {
  const f = (family = await startMultisiteFamily({
    dialect: 'clearquest',
    replicas: ['boston', 'paris', 'tokyo'],
  }));
  const s = (ssh = overSsh(f));
  await restoredBoston(f, s);

  // Evidence that restoration is needed: the documented lsepoch -actual warning, per sibling.
  const actual = await s.run('boston', f.command('boston', 'lsepoch', ['-actual']));
  expect(actual.out).toContain(
    'Your replica ("boston") has fewer oplog entries for itself than "paris" has for your replica.\n' +
      'To avoid permanent data loss, your VOB administrator must initiate the documented replica restoration procedure.',
  );

  // The mirror warning, seen from a sibling.
  const mirror = await s.run('paris', f.command('paris', 'lsepoch', ['-actual', 'boston']));
  expect(mirror.out).toContain(
    'The replica "paris" has more oplog entries for "boston" than "boston" has for itself.',
  );

  const restore = await s.run('boston', f.command('boston', 'restorereplica'));
  expect(restore.out).toContain('Restoration updates are required from: paris, tokyo');
  expect(await f.state('boston')).toMatchObject({ locked: true, restoring: true });
  await expect(f.write('boston', 'not now')).rejects.toThrow(/locked/);
  const debt = await s.run('boston', f.command('boston', 'lsreplica', ['-long']));
  expect(debt.out).toContain('awaiting restoration update from: "paris", "tokyo"');

  // Step 3: nothing pending at the siblings.
  for (const sib of ['paris', 'tokyo']) expect((await s.run(sib, f.command(sib, 'lspacket'))).out).toBe('');

  // Step 4: packets with the return-ack request, shipped over the siblings' sshd.
  const exported = await s.run(
    'boston',
    f.command('boston', 'syncreplica', ['-export', '-fship', 'paris', 'tokyo']),
  );
  expect(exported.code).toBe(0);
  expect(exported.out).toMatch(
    /^Generating synchronization packet \S+\/ms_ship\/outgoing\/sync_paris_\d\d-[A-Z][a-z]{2}-\d\d\.\d\d\.\d\d\.\d\d_\d+_\d+$/m,
  );
  expect(exported.out).toMatch(/^- shipping order file is \S+\/sh_o_sync_tokyo_\S+$/m);
  expect(exported.out).toContain('Attempting to forward/deliver generated packets...');
  expect(exported.out.match(/^-- Forwarded\/delivered packet /gm)).toHaveLength(2);
  const pending = await s.run('paris', f.command('paris', 'lspacket', ['-long']));
  expect(pending.out).toMatch(/^Multiutil: Packet `\S+sync_paris_\S+':$/m);
  expect(pending.out).toMatch(/^ {2}From: boston \([0-9a-f-]{36}\)$/m);
  expect(pending.out).toContain('  Recipients: paris*');
  expect(pending.out).toContain('  Restoration request: yes');

  // Step 5, paris only: boston hears from paris, still waits for tokyo.
  await s.run('paris', f.command('paris', 'syncreplica', ['-import', '-receive']));
  await s.run('paris', f.command('paris', 'syncreplica', ['-export', '-fship', 'boston']));
  const first = await s.run('boston', f.command('boston', 'syncreplica', ['-import', '-receive']));
  expect(first.out).toContain('still waiting for: tokyo');
  expect(first.out).not.toContain(UNLOCKED);
  expect(await f.state('boston')).toMatchObject({ locked: true, restoring: true });
  expect((await s.run('boston', f.command('boston', 'lsreplica', ['-long']))).out).toContain(
    'owes restoration update to: "boston"',
  );

  // tokyo acks: the documented completion line, unlocked, writes allowed again.
  await s.run('tokyo', f.command('tokyo', 'syncreplica', ['-import', '-receive']));
  await s.run('tokyo', f.command('tokyo', 'syncreplica', ['-export', '-fship', 'boston']));
  const last = await s.run('boston', f.command('boston', 'syncreplica', ['-import', '-receive']));
  expect(last.out.trimEnd().split('\n').pop()).toBe(UNLOCKED);
  expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });

  // Recovered exactly the ops up to the last export (b1..b4); b5 is lost.
  expect((await f.records('boston')).map((r) => r.payload)).toEqual(['b1', 'b2', 'b3', 'b4', 'p1']);
  expect((await f.state('boston')).epochRow).toEqual({ boston: 4, paris: 1, tokyo: 0 });
  await f.write('boston', 'b5 again');
  const clean = await s.run('boston', f.command('boston', 'lsepoch', ['-actual']));
  expect(clean.code).toBe(0);
  expect(clean.out).not.toMatch(/fewer oplog entries|more oplog entries/);
  expect((await s.run('boston', f.command('boston', 'lsreplica', ['-long']))).out).not.toMatch(
    /awaiting|owes/,
  );
});

it('a write at the restored replica before restorereplica reuses oplog ids its siblings hold: divergence', async () => {
  const f = (family = await startMultisiteFamily({
    dialect: 'clearquest',
    replicas: ['boston', 'paris', 'tokyo'],
  }));
  const s = (ssh = overSsh(f));
  await restoredBoston(f, s);
  expect(await f.write('boston', 'rogue')).toBe(3); // b3 has oplog id 3 at paris and tokyo

  expect(await restoreProtocol(f, s)).toContain(UNLOCKED);
  const at = async (r: string) =>
    (await f.records(r)).find((x) => x.origin === 'boston' && x.oid === 3)?.payload;
  expect(await at('boston')).toBe('rogue');
  expect(await at('paris')).toBe('b3');
  expect(await at('tokyo')).toBe('b3');
});

it('a sibling whose sshd is down keeps the replica locked; its packet waits in the outgoing bay until shipped', async () => {
  const f = (family = await startMultisiteFamily({
    dialect: 'clearquest',
    replicas: ['boston', 'paris', 'tokyo'],
  }));
  const s = (ssh = overSsh(f));
  await restoredBoston(f, s);
  await f.faults.stopSshd('tokyo');
  await s.run('boston', f.command('boston', 'restorereplica'));
  const exported = await s.run(
    'boston',
    f.command('boston', 'syncreplica', ['-export', '-fship', 'paris', 'tokyo']),
  );
  expect(exported.code).toBe(2);
  expect(exported.out).toMatch(
    /^-- Could not forward\/deliver packet \S+sync_tokyo_\S+ to "tokyo": .+; it remains in the outgoing bay$/m,
  );
  expect((await s.run('boston', f.command('boston', 'lspacket'))).out).toMatch(
    /Multiutil: Packet `\S+outgoing\/sync_tokyo_/,
  );
  const down = await s.run('boston', f.command('boston', 'lsepoch', ['-actual', 'tokyo']));
  expect(down.code).toBe(1);
  expect(down.out).toContain('multiutil: Error: Unable to contact replica "tokyo"');

  await s.run('paris', f.command('paris', 'syncreplica', ['-import', '-receive']));
  await s.run('paris', f.command('paris', 'syncreplica', ['-export', '-fship', 'boston']));
  expect(
    (await s.run('boston', f.command('boston', 'syncreplica', ['-import', '-receive']))).out,
  ).not.toContain(UNLOCKED);
  expect(await f.state('boston')).toMatchObject({ locked: true });

  await f.faults.startSshd('tokyo');
  const poll = await s.run('boston', [`${f.host('boston').binDir}/shipping_server`, '-poll']);
  expect(poll.out).toMatch(/^-- Forwarded\/delivered packet \S+sync_tokyo_/m);
  await s.run('tokyo', f.command('tokyo', 'syncreplica', ['-import', '-receive']));
  await s.run('tokyo', f.command('tokyo', 'syncreplica', ['-export', '-fship', 'boston']));
  expect((await s.run('boston', f.command('boston', 'syncreplica', ['-import', '-receive']))).out).toContain(
    UNLOCKED,
  );
  expect((await f.records('boston')).map((r) => r.payload)).toEqual(['b1', 'b2', 'b3', 'b4', 'p1']);
});

it('lost packets during restoration: the restoration request is re-exported by the replica, a lost ack by the sibling', async () => {
  const f = (family = await startMultisiteFamily({ dialect: 'clearquest', replicas: ['boston', 'paris'] }));
  const s = (ssh = overSsh(f));
  await restoredBoston(f, s);
  const cmd = (r: string, sub: string, args: string[] = []) => s.run(r, f.command(r, sub, args));
  await cmd('boston', 'restorereplica');

  f.faults.dropNextPacket('paris'); // the restoration request never arrives
  await cmd('boston', 'syncreplica', ['-export', '-fship', 'paris']);
  expect((await cmd('paris', 'syncreplica', ['-import', '-receive'])).out).toBe('');
  await cmd('boston', 'syncreplica', ['-export', '-fship', 'paris']);
  expect((await cmd('paris', 'syncreplica', ['-import', '-receive'])).out).toContain(
    'Restoration request from "boston"',
  );

  f.faults.dropNextPacket('boston'); // the acknowledgement (with b3, b4) is lost
  await cmd('paris', 'syncreplica', ['-export', '-fship', 'boston']);
  expect((await cmd('boston', 'syncreplica', ['-import', '-receive'])).out).toBe('');
  expect(await f.state('boston')).toMatchObject({ locked: true, restoring: true });
  await cmd('paris', 'syncreplica', ['-export', '-fship', 'boston']);
  const done = await cmd('boston', 'syncreplica', ['-import', '-receive']);
  expect(done.out).toContain('(2 new operations, 0 already present)'); // b3, b4 again
  expect(done.out).toContain(UNLOCKED);
  expect((await f.records('boston')).map((r) => r.payload)).toEqual(['b1', 'b2', 'b3', 'b4', 'p1']);
});

it('a replica whose storage is lost says so; restorereplica -replace narrows the siblings it waits for; packets take the transit delay', async () => {
  const f = (family = await startMultisiteFamily({
    dialect: 'clearquest',
    replicas: ['boston', 'paris', 'tokyo'],
    transitDelayMs: 300,
  }));
  const run = async (r: string, sub: string, args: string[] = []) =>
    f.run(r, 'multiutil', f.command(r, sub, args).slice(1));
  await f.write('boston', 'b1');
  const { file } = await f.backup('boston');
  await f.loseStorage('boston');
  const lost = await run('boston', 'lsepoch');
  expect(lost.code).toBe(1);
  expect(lost.stderr).toMatch(
    /^multiutil: Error: Unable to open the replica database "msim_\w+_boston": it is empty or missing \(relation "replica" does not exist\)$/m,
  );
  expect(lost.stderr).not.toContain('msim-admin-pw');

  expect((await f.run('boston', 'msim-db', ['restore', file])).code).toBe(0);
  expect((await run('boston', 'restorereplica', ['-replace', 'paris'])).stdout).toContain(
    'Restoration updates are required from: paris\n',
  );
  const started = Date.now();
  expect((await run('boston', 'syncreplica', ['-export', '-fship', 'paris'])).code).toBe(0);
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  await run('paris', 'syncreplica', ['-import', '-receive']);
  await run('paris', 'syncreplica', ['-export', '-fship', 'boston']);
  expect((await run('boston', 'syncreplica', ['-import', '-receive'])).stdout).toContain(UNLOCKED);
});

it('four siblings acknowledge in parallel: packets arriving at once are all imported, then the replica unlocks', async () => {
  const siblings = ['paris', 'tokyo', 'sydney', 'lima'];
  const f = (family = await startMultisiteFamily({
    dialect: 'clearquest',
    replicas: ['boston', ...siblings],
  }));
  const run = async (r: string, sub: string, args: string[] = []) => {
    const out = await f.run(r, 'multiutil', f.command(r, sub, args).slice(1));
    expect(out.code).toBe(0);
    return out.stdout;
  };
  await f.write('boston', 'b1');
  const { file } = await f.backup('boston');
  await f.write('boston', 'b2');
  await f.sync('boston');
  await Promise.all(siblings.map((s) => f.write(s, `${s}1`)));
  await f.loseStorage('boston');
  await f.run('boston', 'msim-db', ['restore', file]);
  await run('boston', 'restorereplica');
  await run('boston', 'syncreplica', ['-export', '-fship', ...siblings]);
  await Promise.all(
    siblings.map(async (s) => {
      await run(s, 'syncreplica', ['-import', '-receive']);
      await run(s, 'syncreplica', ['-export', '-fship', 'boston']);
    }),
  );
  const out = await run('boston', 'syncreplica', ['-import', '-receive']);
  expect(out.match(/^Applied sync\. packet /gm)).toHaveLength(4);
  expect(out.trimEnd().split('\n').pop()).toBe(UNLOCKED);
  expect((await f.records('boston')).map((r) => r.payload).sort()).toEqual([
    'b1',
    'b2',
    'lima1',
    'paris1',
    'sydney1',
    'tokyo1',
  ]);
});
