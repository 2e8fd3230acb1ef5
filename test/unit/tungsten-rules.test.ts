import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareRestore, resetValues } from '../../src/flavours/tungsten/reset-rules';

const golden = (name: string) => readFileSync(join(__dirname, '../fixtures/tungsten', name), 'utf8');

const trep = (seqno: number | string, epoch: number | string, source: string, eventId: string) =>
  `trep\t${seqno}\t${epoch}\t${source}\t${eventId}\n`;
const header = (seqno: number, epoch: number, eventId: string, source: string) =>
  `SEQ# = ${seqno} / FRAG# = 0 (last frag)\n- FILE = thl.data.0000000001\n- TIME = 2026-12-01 10:00:00.0\n- EPOCH# = ${epoch}\n- EVENTID = ${eventId}\n- SOURCEID = ${source}\nthl-exit: 0\n`;
const info = (min: number, max: number) =>
  `min seq# = ${min}\nmax seq# = ${max}\nevents = ${max - min + 1}\n`;
const dumpHeader = (file: string, pos: number) =>
  `-- CHANGE MASTER TO MASTER_LOG_FILE='${file}', MASTER_LOG_POS=${pos};`;

describe('compare the restored trep_commit_seqno with the backup (step 5)', () => {
  const row = trep(100, 7, 'host1', 'mysql-bin.000002:0000000000004000;-1');
  it.each([
    [
      'equal positions: no reset',
      row,
      dumpHeader('mysql-bin.000002', 4000),
      'primary',
      { decision: 'no-reset', lookupEvent: 'mysql-bin.000002:0000000000004000' },
    ],
    [
      'trep behind the backup: reset to the backup position',
      row,
      dumpHeader('mysql-bin.000002', 5120),
      'primary',
      { decision: 'reset', lookupEvent: 'mysql-bin.000002:0000000000005120' },
    ],
    [
      'trep behind, in an earlier binlog file',
      row,
      'mysql-bin.000003\t4\n',
      'primary',
      { decision: 'reset', lookupEvent: 'mysql-bin.000003:0000000000000004' },
    ],
    [
      'backup of a replica: the trep row is the restart point',
      row,
      'backup-position: none',
      'replica',
      { decision: 'no-reset', lookupEvent: 'mysql-bin.000002:0000000000004000' },
    ],
  ])('%s', (_, t, backup, backupFrom, want) => {
    const out = compareRestore({ trep: t, backup, backupFrom });
    expect(out).toMatchObject({
      ok: true,
      values: { ...want, trepSeqno: '100', trepEpoch: '7', trepSource: 'host1' },
    });
  });

  it.each([
    [
      'no tungsten schema',
      "trep-error: ERROR 1146 (42S02): Table 'tungsten_alpha.trep_commit_seqno' doesn't exist",
      dumpHeader('mysql-bin.000002', 4000),
      'no-tungsten-schema',
      /did not include the tungsten schema/,
    ],
    ['an empty table', '', dumpHeader('mysql-bin.000002', 4000), 'trep-empty', /empty/],
    ['seqno -1', trep(-1, 0, 'NULL', 'NULL'), dumpHeader('mysql-bin.000002', 4000), 'trep-unset', /seqno=-1/],
    [
      'trep ahead of the backup',
      row,
      dumpHeader('mysql-bin.000002', 3000),
      'trep-ahead',
      /not from one snapshot/,
    ],
    [
      'no position in the backup',
      row,
      'backup-position: none',
      'backup-position-unknown',
      /could not be read/,
    ],
    [
      'another binlog',
      row,
      dumpHeader('db2-bin.000002', 4000),
      'positions-incomparable',
      /different binlogs/,
    ],
  ])('refuses: %s', (_, t, backup, code, message) => {
    const out = compareRestore({ trep: t, backup, backupFrom: 'primary' });
    expect(out).toEqual({ ok: false, code, message: expect.stringMatching(message) });
  });

  it('several channels: the replicator restarts from the lowest row', () => {
    const rows = trep(105, 7, 'host1', 'mysql-bin.000002:0000000000004500;-1') + row;
    expect(
      compareRestore({ trep: rows, backup: dumpHeader('mysql-bin.000002', 4000), backupFrom: 'primary' }),
    ).toMatchObject({
      ok: true,
      values: { decision: 'no-reset', trepSeqno: '100' },
    });
  });
});

describe("reset values from the primary's THL header (steps 6-7)", () => {
  const ev = 'mysql-bin.000002:0000000000005120';
  const base = {
    decision: 'reset',
    lookupEvent: ev,
    trepSeqno: '100',
    trepEpoch: '7',
    header: header(120, 7, `${ev};-1`, 'host1'),
    thlInfo: info(50, 130),
    primarySourceId: 'host1',
  };

  it('reset: every value from the header, the event id without its session suffix', () => {
    expect(resetValues(base)).toEqual({
      ok: true,
      values: { decision: 'reset', seqno: '120', epoch: '7', eventId: ev, sourceId: 'host1' },
      note: expect.stringContaining('reset to seqno=120 epoch=7'),
    });
  });

  it("reset: the epoch is the THL header's, never a default 0", () => {
    const out = resetValues({ ...base, header: header(120, 118, `${ev};-1`, 'host1') });
    expect(out).toMatchObject({ ok: true, values: { epoch: '118' } });
  });

  it('no reset: the restored row must match the header of its own event', () => {
    const same = { ...base, decision: 'no-reset', lookupEvent: ev, trepSeqno: '120', trepEpoch: '7' };
    expect(resetValues(same)).toMatchObject({ ok: true, values: { decision: 'no-reset', seqno: '120' } });
  });

  it('the vendor example is refused: seqno 7748 is not above 32033674 and db1-east is not the primary host1', () => {
    const out = resetValues({
      decision: 'reset',
      lookupEvent: 'mysql-bin.000032:0000000473863524',
      trepSeqno: '32033674',
      trepEpoch: '0',
      header: golden('thl-list-vendor.txt'),
      thlInfo: golden('thl-info.txt'),
      primarySourceId: 'host1',
    });
    expect(out).toEqual({
      ok: false,
      code: 'wrong-source,seqno-not-above',
      message:
        "the event's SOURCEID db1-east.continuent.com is not the primary's source id host1; the new seqno 7748 is not above the restored seqno 32033674: resetting would replay or skip transactions",
    });
  });

  it.each([
    [
      'an approximate match',
      {
        header:
          'Event not found : Approximative match found between seqno 119 (a) and seqno 120 (b)\nthl-exit: 1',
      },
      'approximate-event',
      /no event at exactly mysql-bin.000002:5120/,
    ],
    [
      'a header of another position',
      { header: header(121, 7, 'mysql-bin.000002:0000000000005200;-1', 'host1') },
      'approximate-event',
      /not at exactly/,
    ],
    ['no event at all', { header: 'thl-exit: 1' }, 'event-not-found', /no event at/],
    [
      'another source id (the primary changed)',
      { primarySourceId: 'host3' },
      'wrong-source',
      /SOURCEID host1 is not the primary's source id host3/,
    ],
    [
      'a seqno not above the restored one',
      { trepSeqno: '120' },
      'seqno-not-above',
      /120 is not above the restored seqno 120/,
    ],
    [
      'a THL that no longer holds seqno+1',
      { thlInfo: info(125, 130) },
      'thl-purged',
      /starts at seqno 125, past 121/,
    ],
    [
      'an event the primary already purged (not found, its THL starts past the restored seqno)',
      { header: 'Event not found : mysql-bin.000002:0000000000005120\nthl-exit: 1', thlInfo: info(125, 130) },
      'thl-purged',
      /starts at seqno 125, past 101 .*re-provision/,
    ],
    ['an unreadable THL range', { thlInfo: 'Fatal error' }, 'thl-unknown', /could not be read/],
    [
      'no reset but another epoch (wrong epoch restored)',
      { decision: 'no-reset', trepSeqno: '120', trepEpoch: '0' },
      'epoch-mismatch',
      /restored epoch 0 is not the THL's EPOCH# 7/,
    ],
    [
      'no reset but another seqno',
      { decision: 'no-reset', trepSeqno: '119' },
      'seqno-mismatch',
      /THL says seqno 120/,
    ],
  ])('refuses: %s', (_, patch, code, message) => {
    const out = resetValues({ ...base, ...patch });
    expect(out).toEqual({ ok: false, code, message: expect.stringMatching(message) });
  });

  it('the tab-delimited header gives the same decision', () => {
    const tabbed = `7748\t0\t0\ttrue\t2014-10-17 16:58:11.0\tmysql-bin.000032:0000000473863524;-1\tdb1-east.continuent.com\n`;
    const out = resetValues({
      decision: 'reset',
      lookupEvent: 'mysql-bin.000032:0000000473863524',
      trepSeqno: '7000',
      trepEpoch: '0',
      header: tabbed,
      thlInfo: golden('thl-info.txt'),
      primarySourceId: 'db1-east.continuent.com',
    });
    expect(out).toMatchObject({
      ok: true,
      values: { seqno: '7748', epoch: '0', sourceId: 'db1-east.continuent.com' },
    });
  });
});
