import { dirname } from 'node:path';
import { startMultisiteFamily, type MsimDialect, type MsimFamily } from '../helpers/msim/family';
import { overSsh } from '../helpers/msim/over-ssh';
import { fixture, transcript } from '../helpers/msim/transcript';
import { expectNoLeakedHandles } from '../helpers/leak-guard';

/**
 * The whole seed-002 restoration in both dialects, each command's output kept as a fixture in
 * test/fixtures/multisite/ (normalized: paths, GUIDs, dates, ports). The product's parsers are
 * tested against these files; this test keeps them true to what the simulator prints.
 * MSIM_WRITE_FIXTURES=1 rewrites them.
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

it.each<MsimDialect>(['clearquest', 'clearcase'])(
  '%s: restoration transcript matches the fixtures',
  async (dialect) => {
    const f = (family = await startMultisiteFamily({ dialect, replicas: ['boston', 'paris', 'tokyo'] }));
    const s = (ssh = overSsh(f));
    const root = dirname(dirname(f.host('boston').bay));
    const cc = dialect === 'clearcase';
    const sel = (r: string) => (cc ? `${r}@${f.vob}` : r);
    let n = 0;
    const step = async (name: string, replica: string, argv: string[], expectCode = 0) => {
      const r = await s.run(replica, argv);
      const text = transcript(argv, r.out, r.code, root);
      const id = `${dialect}-${String(++n).padStart(2, '0')}-${name}`;
      expect(text).toBe(fixture(id, text));
      expect(r.code).toBe(expectCode);
      return r.out;
    };
    const cli = (replica: string, sub: string, args: string[] = []) => f.command(replica, sub, args);

    await f.write('boston', 'b1');
    await f.write('boston', 'b2');
    await f.sync('boston');
    await f.write('paris', 'p1');
    await f.sync('paris');
    const backup = await f.backup('boston');
    await f.write('boston', 'b3');
    await f.sync('boston');
    await f.loseStorage('boston');
    await step('restore-database', 'boston', [`${f.host('boston').binDir}/msim-db`, 'restore', backup.file]);
    await step('lsepoch', 'boston', cli('boston', 'lsepoch'));
    const warned = await step(
      'lsepoch-actual-after-restore',
      'boston',
      cli('boston', 'lsepoch', ['-actual', sel('paris')]),
    );
    expect(warned).toContain('has fewer oplog entries for itself than');
    if (cc) await step('checkvob', 'boston', cli('boston', 'cleartool', ['checkvob', `vob:${f.vob}`]));
    await step('restorereplica', 'boston', cli('boston', 'restorereplica'));
    await step('lsreplica-long-restoring', 'boston', cli('boston', 'lsreplica', ['-long']));
    await step('lspacket-siblings-empty', 'paris', cli('paris', 'lspacket'));
    await step(
      'export-fship-siblings',
      'boston',
      cli('boston', 'syncreplica', ['-export', '-fship', sel('paris'), sel('tokyo')]),
    );
    await step('lspacket-long-at-sibling', 'paris', cli('paris', 'lspacket', ['-long']));
    await step('import-at-sibling', 'paris', cli('paris', 'syncreplica', ['-import', '-receive']));
    await step('lsreplica-long-sibling-owes-ack', 'paris', cli('paris', 'lsreplica', ['-long']));
    await step('export-ack', 'paris', cli('paris', 'syncreplica', ['-export', '-fship', sel('boston')]));
    await step('lspacket-long-ack', 'boston', cli('boston', 'lspacket', ['-long']));
    await step('import-first-ack', 'boston', cli('boston', 'syncreplica', ['-import', '-receive']));
    await step('lsreplica-long-one-owes', 'boston', cli('boston', 'lsreplica', ['-long']));
    await s.run('tokyo', cli('tokyo', 'syncreplica', ['-import', '-receive']));
    await s.run('tokyo', cli('tokyo', 'syncreplica', ['-export', '-fship', sel('boston')]));
    const last = await step(
      'import-last-ack',
      'boston',
      cli('boston', 'syncreplica', ['-import', '-receive']),
    );
    if (cc) {
      expect(last).toContain('Use "cleartool unlock vob:/vobs/sampl" to unlock the VOB.');
      expect(await f.state('boston')).toMatchObject({ locked: true, restoring: false });
      await step(
        'lslock-after-restoration',
        'boston',
        cli('boston', 'cleartool', ['lslock', `vob:${f.vob}`]),
      );
      await step('unlock', 'boston', cli('boston', 'cleartool', ['unlock', `vob:${f.vob}`]));
      await step('lslock-unlocked', 'boston', cli('boston', 'cleartool', ['lslock', `vob:${f.vob}`]));
    } else expect(last).toContain('Database SAMPL is unlocked after restoration.');
    expect(await f.state('boston')).toMatchObject({ locked: false, restoring: false });
    await step('lsepoch-actual-clean', 'boston', cli('boston', 'lsepoch', ['-actual']));
    await step('lsreplica-long-clean', 'boston', cli('boston', 'lsreplica', ['-long']));
    expect((await f.records('boston')).map((r) => r.payload)).toEqual(['b1', 'b2', 'b3', 'p1']);
  },
);
