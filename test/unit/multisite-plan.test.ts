import { Topology } from '../../src/config/topology';
import { stageLabel, stageOf, stagesForOthers } from '../../src/engine/checklist-stage';
import { multisite } from '../../src/flavours/multisite';
import { blocksAsText } from '../helpers/blocks-text';
import { multisiteReport, multisiteStatus } from '../helpers/multisite-status';
import { multisiteRestore } from '../../src/flavours/multisite/runbooks/restore';
import { canonicalJson, PlanError, resolvePlan } from '../../src/runbook/resolve';

const node = (name: string) => ({
  name,
  host: { transport: 'ssh', host: '127.0.0.1', port: 2200, user: 'u', keyPath: '/k', knownHostsPath: '/kh' },
  multisite: {
    binDir: `/opt/${name}/bin`,
    bay: `/bays/${name}`,
    restore: ['/opt/restore-db', '--from', `/backups/${name}.dump`],
    manifest: `/backups/${name}.manifest`,
  },
});

const topology = (dialect: 'clearquest' | 'clearcase') =>
  Topology.parse({
    name: 'fam',
    flavour: 'multisite',
    multisite:
      dialect === 'clearquest'
        ? { dialect, family: 'fam', clan: 'clan1', user: 'admin', passwordEnv: 'MS_PASSWORD' }
        : { dialect, vobTag: '/vobs/dev' },
    nodes: ['a', 'b', 'c', 'd'].map(node),
  });

const status = multisiteStatus;
const report = multisiteReport;

const lostA = status('a', {
  role: 'lost',
  matrix: null,
  ownOps: null,
  databaseError: 'no database',
  manifest: { ownOps: 6, takenAt: null },
});

describe('multisite-restore plan', () => {
  it('restore and restorereplica share one gate; the siblings are worked as one checklist each; no override options', () => {
    const plan = resolvePlan(
      multisiteRestore,
      topology('clearquest'),
      report([lostA, status('b'), status('c'), status('d')]),
      'a',
    );
    expect(plan.steps.map((s) => `${s.stage} ${s.id} ${s.gate ?? ''}`.trim())).toEqual([
      '1 restore-database--a restore',
      '2 restorereplica--a restore',
      '3 no-pending-packets--a',
      '4 clear-markers--a',
      '4 clear-markers--b',
      '4 clear-markers--c',
      '4 clear-markers--d',
      '5 export-to-siblings--a',
      '6 acknowledgements--a',
      '7 verify--a',
    ]);
    const exp = plan.steps.find((s) => s.templateId === 'export-to-siblings')!.action;
    if (exp.kind !== 'command') throw new Error(exp.kind);
    // bash -c SCRIPT name password-mode count argv…; the password itself comes on stdin.
    expect(exp.argv.slice(3, 6)).toEqual(['export', 'stdin', '15']);
    expect(exp.stdinSecret).toBe('MS_PASSWORD');
    expect(exp.argv.slice(6)).toEqual([
      '/opt/a/bin/multiutil',
      'syncreplica',
      '-export',
      '-family',
      'fam',
      '-clan',
      'clan1',
      '-site',
      'a',
      '-user',
      'admin',
      '-fship',
      'b',
      'c',
      'd',
    ]);
    const acks = plan.steps.find((s) => s.templateId === 'acknowledgements')!.action;
    expect(acks.kind === 'checklist' && acks.items.map((i) => i.node)).toEqual(['a', 'b', 'c', 'd']);
    expect(acks.kind === 'checklist' && acks.stages).toEqual([
      'owes-ack',
      'packet-delivered',
      'imported',
      'sibling-exported',
      'acked',
      'awaiting-acks',
      'restored',
      'unlocked',
    ]);
    const restore = plan.steps[0]!.action;
    expect(restore.kind === 'command' && restore.argv).toEqual([
      '/opt/restore-db',
      '--from',
      '/backups/a.dump',
    ]);
    const text = canonicalJson(plan);
    expect(text).not.toMatch(/-force|-override|-replace|-completed/);
    // The password is never an argv element of the plan: only its variable's name, for stdin.
    const argvs = plan.steps.flatMap((s) =>
      s.action.kind === 'command'
        ? [s.action.argv]
        : s.action.kind === 'checklist'
          ? s.action.items.map((i) => (i.probe.kind === 'command' ? i.probe.argv : []))
          : [],
    );
    for (const argv of argvs) expect(argv).not.toContain('-password');
    expect(restore.kind === 'command' && restore.stdinSecret).toBe(undefined);
    expect(plan.basis.followUp).toMatch(/Restoration of a: .*lost/);
  });

  it('ClearCase: multitool with replica@vob destinations', () => {
    const plan = resolvePlan(
      multisiteRestore,
      topology('clearcase'),
      report([lostA, status('b'), status('c'), status('d')]),
      'a',
    );
    // ClearCase leaves the VOB locked after the last acknowledgement: cleartool unlock follows.
    expect(plan.steps.map((s) => s.templateId).slice(-2)).toEqual(['unlock-vob', 'verify']);
    const unlock = plan.steps.find((s) => s.templateId === 'unlock-vob')!.action;
    expect(unlock.kind === 'command' && unlock.argv).toEqual([
      '/opt/a/bin/cleartool',
      'unlock',
      'vob:/vobs/dev',
    ]);
    const exp = plan.steps.find((s) => s.templateId === 'export-to-siblings')!.action;
    if (exp.kind !== 'command') throw new Error(exp.kind);
    expect(exp.stdinSecret).toBeUndefined();
    expect(exp.argv.slice(4)).toEqual([
      'none',
      '7',
      '/opt/a/bin/multitool',
      'syncreplica',
      '-export',
      '-fship',
      'b@/vobs/dev',
      'c@/vobs/dev',
      'd@/vobs/dev',
    ]);
  });

  it('a replica already restored (the -actual warning) skips the database restore', () => {
    const a = status('a', {
      ownOps: 6,
      actualWarnings: [{ kind: 'fewer-own', replica: 'a', other: 'b' }],
      manifest: { ownOps: 6, takenAt: null },
    });
    const plan = resolvePlan(
      multisiteRestore,
      topology('clearquest'),
      report([a, status('b'), status('c'), status('d')]),
      'a',
    );
    expect(plan.steps[0]!.id).toBe('restorereplica--a');
    expect(plan.warnings.join('\n')).toMatch(/restored already.*restore-database/);
  });

  it('refuses a healthy replica, and names an unknown sibling in the warnings', () => {
    expect(() =>
      resolvePlan(
        multisiteRestore,
        topology('clearquest'),
        report([status('a'), status('b'), status('c'), status('d')]),
        'a',
      ),
    ).toThrow(PlanError);
    const dark = status('c', { reachable: false, matrix: null, packets: null });
    const plan = resolvePlan(
      multisiteRestore,
      topology('clearquest'),
      report([lostA, status('b'), dark, status('d')]),
      'a',
    );
    expect(plan.warnings.join('\n')).toMatch(
      /c cannot be reached: it is not acknowledged and step 3 stays closed/,
    );
  });
});

describe('status rendering', () => {
  it('terminal and Slack: a row per replica, the proposal with the loss window, verdicts and the closed step 3', () => {
    const unread = { ownOps: null, locked: null, restoring: null, actualWarnings: null, awaiting: null };
    const dark = status('c', {
      ...unread,
      reachable: false,
      matrix: null,
      packets: null,
      error: 'unreachable: connect ECONNREFUSED',
    });
    const r = report([{ ...lostA, ...unread }, status('b'), dark, status('d')]);
    const text = multisite.render.statusText(r);
    expect(text).toMatch(/^a +a +DATABASE LOST +— +— +0 +—\s*$/m);
    expect(text).toMatch(/^c +c +UNREACHABLE +— +— +— +—\s*$/m);
    expect(text).toContain(
      'Proposal: restore a (evidence: database-lost); siblings b, c, d; step 3 closed (1 blocking)',
    );
    expect(text).toContain('  ✗ c: unknown (bays not readable)');
    const slack = blocksAsText(multisite.render.statusMessage(r, ['multisite-restore']).blocks);
    expect(slack).toContain('*Step 3 closed by*');
    expect(slack).toContain('[Plan multisite-restore]');
    expect(JSON.stringify(multisite.toJson(r))).toContain('"lossWindow"');
    // Refused: a healthy family asked to restore one of its replicas.
    const healthy = report([status('a'), status('b')]);
    expect(multisite.render.proposalLine(healthy)).toBe('no restoration proposed');
  });
});

describe('checklist stages', () => {
  it('takes the last stage= line of a probe and places it among the declared stages', () => {
    expect(stageOf('noise\nstage=imported exported soon\n')).toEqual({
      stage: 'imported',
      detail: 'exported soon',
    });
    expect(stageOf('stage=owes-ack')).toEqual({ stage: 'owes-ack', detail: 'owes-ack' });
    expect(stageOf('nothing here')).toBeNull();
    expect(stageLabel('imported', ['owes-ack', 'packet-delivered', 'imported'])).toBe('imported (3/3)');
    expect(stageLabel('other', ['owes-ack'])).toBe('other');
    expect([
      ...stagesForOthers('stage@paris=acked acknowledgement imported at boston\nstage=awaiting-acks x\n'),
    ]).toEqual([['paris', { stage: 'acked', detail: 'acknowledgement imported at boston' }]]);
  });
});
