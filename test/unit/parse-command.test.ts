import { RecoverConfig } from '../../src/config/topology';
import { parseSlashText } from '../../src/slack/parse-command';

const node = (name: string) => ({
  name,
  db: { engine: 'postgres', host: 'h', port: 5432, database: 'd', user: 'u' },
});
const two = RecoverConfig.parse({
  topologies: [
    {
      name: 'prod-live',
      flavour: 'coremedia',
      master: 'mls',
      nodes: [node('mls'), node('rls-1'), node('rls-2')],
    },
    { name: 'staging', flavour: 'coremedia', master: 'mls', nodes: [node('mls')] },
  ],
});
const one = RecoverConfig.parse({ topologies: [two.topologies[0]] });
const runbooks = ['slave-from-master-sql', 'in-sync-replicator-settings'];

describe('parseSlashText', () => {
  it.each([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['status prod-live', { kind: 'status', topology: 'prod-live' }],
    ['  status   staging ', { kind: 'status', topology: 'staging' }],
    [
      'plan prod-live slave-from-master-sql rls-2',
      { kind: 'plan', topology: 'prod-live', runbook: 'slave-from-master-sql', target: 'rls-2' },
    ],
    [
      'run prod-live in-sync-replicator-settings',
      { kind: 'run', topology: 'prod-live', runbook: 'in-sync-replicator-settings', target: null },
    ],
    ['abort prod-live-20261121-094514-0d8d', { kind: 'abort', runId: 'prod-live-20261121-094514-0d8d' }],
    [
      'timeline prod-live-20261121-094514-0d8d',
      { kind: 'timeline', runId: 'prod-live-20261121-094514-0d8d' },
    ],
    ['runs', { kind: 'runs', topology: null }],
    ['runs staging', { kind: 'runs', topology: 'staging' }],
  ])('"%s" parses', (text, request) => {
    expect(parseSlashText(text, two, runbooks)).toEqual({ ok: true, request });
  });

  it('status without a topology uses the only one there is', () => {
    expect(parseSlashText('status', one, runbooks)).toEqual({
      ok: true,
      request: { kind: 'status', topology: 'prod-live' },
    });
  });

  it.each([
    ['stauts prod-live', 'unknown subcommand "stauts"', /did you mean "status"/],
    ['status', 'which topology? (have: prod-live, staging)', /usage: \/recover status \[TOPOLOGY\]/],
    ['status prod-lvie', 'unknown topology "prod-lvie"', /did you mean "prod-live"/],
    [
      'plan prod-live',
      'plan needs a topology and a runbook',
      /usage: \/recover plan TOPOLOGY RUNBOOK \[TARGET\]/,
    ],
    [
      'plan prod-live slave-from-master',
      'unknown runbook "slave-from-master"',
      /have: slave-from-master-sql, in-sync-replicator-settings/,
    ],
    [
      'run prod-live slave-from-master-sql rls-9',
      '"rls-9" is not a node of prod-live',
      /nodes: mls, rls-1, rls-2/,
    ],
    ['abort', 'abort needs a run id', /see \/recover runs/],
    ['abort ; rm -rf /', 'abort needs a run id', /usage/],
    ['timeline 12345', '"12345" is not a run id', /run ids look like/],
    ['status prod-live extra', 'too many arguments', /usage/],
  ])('"%s" is explained', (text, problem, hint) => {
    const r = parseSlashText(text, two, runbooks);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem).toBe(problem);
    expect(r.hint).toMatch(hint);
  });

  it('echoes at most 40 characters of what was typed', () => {
    const r = parseSlashText(`status ${'x'.repeat(500)}`, two, runbooks);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.length).toBeLessThan(80);
  });
});
