import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBackupPosition } from '../../src/flavours/tungsten/parse/backup-position';
import { parseCctrlLs } from '../../src/flavours/tungsten/parse/cctrl-ls';
import { parseCliHelp, parseDsctlSet } from '../../src/flavours/tungsten/parse/dsctl';
import { compareEventIds, parseEventId, thlEventId } from '../../src/flavours/tungsten/parse/event-id';
import { parseThlInfo, parseThlList } from '../../src/flavours/tungsten/parse/thl';
import { parseTrepRead } from '../../src/flavours/tungsten/parse/trep';
import { parseTrepctlStatus } from '../../src/flavours/tungsten/parse/trepctl';

const golden = (name: string) => readFileSync(join(__dirname, '../fixtures/tungsten', name), 'utf8');

describe('tungsten event ids', () => {
  it('reads the THL form and the backup form as one position', () => {
    const thl = parseEventId('mysql-bin.000032:0000000473863524;-1');
    const backup = parseEventId('mysql-bin.000032:473863524');
    expect(thl).toEqual({ file: 'mysql-bin.000032', offset: 473863524n });
    expect(compareEventIds(thl!, backup!)).toBe(0);
    expect(thlEventId(backup!)).toBe('mysql-bin.000032:0000000473863524');
  });

  it('orders by binlog file index first, then offset; other binlogs do not compare', () => {
    const p = (s: string) => parseEventId(s)!;
    expect(compareEventIds(p('mysql-bin.000032:0000000473860407;-1'), p('mysql-bin.000032:473863524'))).toBe(
      -1,
    );
    expect(compareEventIds(p('mysql-bin.000033:4'), p('mysql-bin.000032:473863524'))).toBe(1);
    expect(compareEventIds(p('mysql-bin.000009:4'), p('mysql-bin.000010:4'))).toBe(-1);
    expect(compareEventIds(p('other-bin.000032:4'), p('mysql-bin.000032:4'))).toBeNull();
  });

  it('refuses anything else rather than guess', () => {
    for (const bad of ['', 'NULL', 'mysql-bin:12', 'mysql-bin.000032', 'mysql-bin.000032:12;x', '; rm -rf /'])
      expect(parseEventId(bad)).toBeNull();
  });
});

describe('tungsten backup position', () => {
  it('reads the dump header, commented or not, and xtrabackup_binlog_info', () => {
    const want = { file: 'mysql-bin.000032', offset: 473863524n };
    expect(
      parseBackupPosition(
        "-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000032', MASTER_LOG_POS=473863524;",
      ),
    ).toEqual(want);
    expect(
      parseBackupPosition("CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000032', MASTER_LOG_POS=473863524;"),
    ).toEqual(want);
    expect(parseBackupPosition('mysql-bin.000032\t473863524\t0-1-100\n')).toEqual(want);
    expect(parseBackupPosition('backup-position: none')).toBeNull();
  });
});

describe('cctrl ls', () => {
  it('reads the coordinator and every datasource box; SUSPECT and progress=-1 stay unknown', () => {
    const ls = parseCctrlLs(golden('cctrl-ls.txt'))!;
    expect(ls.coordinator).toEqual({ host: 'host1', policy: 'AUTOMATIC', state: 'ONLINE' });
    expect(
      ls.datasources.map((d) => [d.name, d.role, d.state, d.stateDetail, d.progress, d.latency, d.status]),
    ).toEqual([
      ['host1', 'primary', 'ONLINE', null, 3, 0.561, 'OK'],
      ['host2', 'replica', 'SHUNNED', 'MANUALLY-SHUNNED', 3, 1.243, 'SHUNNED'],
      ['host3', 'replica', 'FAILED', "DATASERVER 'db3@alpha' STOPPED", null, null, 'CRITICAL'],
    ]);
    expect(ls.datasources[1]!.replicator).toEqual({ role: 'slave', master: 'host1', state: 'ONLINE' });
    expect(ls.datasources[2]!.replicator?.state).toBe('SUSPECT');
    expect(ls.datasources[2]!.reason).toBe("DATASERVER 'db3@alpha' STOPPED");
    expect(ls.datasources[2]!.dataserver).toBe('STOPPED');
  });

  it('reads primary/replica as the same roles, and nothing from an error', () => {
    const ls = parseCctrlLs(
      'COORDINATOR[db1:MANUAL:ONLINE]\n|db2(replica:ONLINE, progress=10, latency=0.2)|\n',
    );
    expect(ls?.datasources[0]).toMatchObject({ name: 'db2', role: 'replica', progress: 10 });
    expect(parseCctrlLs('Unable to connect to manager at host1:9997')).toBeNull();
  });
});

describe('trepctl status', () => {
  it('reads name : value lines; NONE and -1 are unknown, not 0', () => {
    const s = parseTrepctlStatus(golden('trepctl-status.txt'))!;
    expect(s).toMatchObject({
      state: 'ONLINE',
      role: 'slave',
      appliedLastSeqno: 32033674,
      appliedLastEventId: 'mysql-bin.000032:0000000473860407;-1',
      appliedLatency: 0.616,
      latestEpochNumber: 0,
      pendingError: null,
      pendingErrorSeqno: null,
      pendingExceptionMessage: null,
      serviceName: 'alpha',
    });
    expect(parseTrepctlStatus('Connection failed: Connection refused')).toBeNull();
  });
});

describe('thl', () => {
  it('info: the range; an empty log has none', () => {
    expect(parseThlInfo(golden('thl-info.txt'))).toEqual({
      minSeqno: 0,
      maxSeqno: 7760,
      events: 7761,
      oldestFile: 'thl.data.0000000001',
    });
    expect(parseThlInfo('min seq# = -1\nmax seq# = -1\nevents = 0\n')).toMatchObject({
      minSeqno: null,
      maxSeqno: null,
    });
    expect(parseThlInfo('Fatal error')).toBeNull();
  });

  it('list -headers: the block and the tab-delimited formats give the same header', () => {
    const want = {
      seqno: 7748,
      fragno: 0,
      lastFrag: true,
      epoch: 0,
      eventId: 'mysql-bin.000032:0000000473863524;-1',
      position: { file: 'mysql-bin.000032', offset: 473863524n },
      sourceId: 'db1-east.continuent.com',
    };
    const block = parseThlList(golden('thl-list-vendor.txt'));
    const tabbed = parseThlList(golden('thl-list-tabbed.txt'));
    expect(block).toMatchObject({ kind: 'exact', headers: [{ ...want, file: 'thl.data.0000000010' }] });
    expect(tabbed).toMatchObject({ kind: 'exact', headers: [want] });
  });

  it('an approximate match is its own outcome, never a header', () => {
    const text =
      'Event not found : Approximative match found between seqno 915 (mysql-bin.000004:0000000000170512;-1) and seqno 916 (mysql-bin.000004:0000000000171034;-1)\n';
    expect(parseThlList(text)).toEqual({
      kind: 'approximate',
      text: text.trim().replace(/^Event not found : /, ''),
    });
    expect(parseThlList('thl-exit: 1')).toMatchObject({ kind: 'not-found' });
  });
});

describe('dsctl', () => {
  it('reads the set line', () => {
    expect(
      parseDsctlSet(
        'Service "alpha" datasource "global" position was set to: seqno=7748 epoch_number=0 eventid=mysql-bin.000032:0000000473863524 source_id=db1-east.continuent.com',
      ),
    ).toEqual({
      service: 'alpha',
      seqno: 7748,
      epoch: 0,
      eventId: 'mysql-bin.000032:0000000473863524',
      sourceId: 'db1-east.continuent.com',
    });
    expect(
      parseDsctlSet('Cannot set position unless existing position data is removed - reset first'),
    ).toBeNull();
  });

  it('version check: abilities from help output, unknown when help could not be read', () => {
    expect(
      parseCliHelp(
        'thl list [-seqno #] [-event <eventid>] [-headers]',
        'dsctl set [-reset] -seqno # -epoch #',
      ),
    ).toEqual({
      thlListEvent: true,
      dsctlReset: true,
    });
    expect(parseCliHelp('thl list [-low #] [-high #] [-headers]', 'dsctl set -seqno # -epoch #')).toEqual({
      thlListEvent: false,
      dsctlReset: false,
    });
    expect(parseCliHelp(null, null)).toEqual({ thlListEvent: null, dsctlReset: null });
  });
});

describe('trep rows', () => {
  it('reads rows, NULLs and the error line', () => {
    expect(parseTrepRead('trep\t32033674\t0\thost1\tmysql-bin.000032:0000000473860407;-1\n')).toEqual({
      kind: 'rows',
      rows: [
        { seqno: 32033674, epoch: 0, sourceId: 'host1', eventId: 'mysql-bin.000032:0000000473860407;-1' },
      ],
    });
    expect(parseTrepRead('trep\t-1\t0\tNULL\tNULL\n')).toEqual({
      kind: 'rows',
      rows: [{ seqno: -1, epoch: 0, sourceId: null, eventId: null }],
    });
    expect(
      parseTrepRead(
        "trep-error: ERROR 1146 (42S02) at line 1: Table 'tungsten_alpha.trep_commit_seqno' doesn't exist",
      ),
    ).toEqual({
      kind: 'error',
      message: "ERROR 1146 (42S02) at line 1: Table 'tungsten_alpha.trep_commit_seqno' doesn't exist",
    });
  });
});

describe("the simulator's golden fixtures (test/fixtures/tungsten/README.md) read the same", () => {
  it('doc and OSS 5 headers give one header; the doc dsctl line; the sim cctrl box and trepctl status', () => {
    const doc = parseThlList(golden('doc-thl-list-event-headers.txt'));
    const oss5 = parseThlList(golden('oss5-thl-list-headers.txt'));
    for (const h of [doc, oss5])
      expect(h).toMatchObject({
        kind: 'exact',
        headers: [{ seqno: 7748, epoch: 0, sourceId: 'db1-east.continuent.com' }],
      });
    expect(parseDsctlSet(golden('doc-dsctl-set.txt'))).toMatchObject({ seqno: 7748, epoch: 0 });
    const ls = parseCctrlLs(golden('sim-cctrl-ls.txt'))!;
    expect(ls.datasources.map((d) => [d.name, d.role, d.progress])).toEqual([
      ['host1', 'primary', 7748],
      ['host2', 'replica', 7748],
      ['host3', 'replica', null], // progress=-1: unknown
    ]);
    expect(parseTrepctlStatus(golden('sim-trepctl-status.txt'))).toMatchObject({
      state: 'ONLINE',
      appliedLastSeqno: 7748,
      latestEpochNumber: null, // -1 in the sim's output: unknown, never 0
    });
  });
});
