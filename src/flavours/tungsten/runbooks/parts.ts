import type { Check, CommandSpec, StepTemplate, TargetSpec } from '../../../runbook/types';
import { REPLICATOR_STATE } from './scripts';

/** Building blocks of the Tungsten runbook's steps. */

export const on = (kind: string): TargetSpec => ({ kind });
export const equals = (name: string, value: string): Check => ({ kind: 'output-equals', name, value });
/** The whole output, for a rule to parse (it never reaches a shell). */
export const whole = (name: string) => ({ name, pattern: '^([\\s\\S]*)$' });

export type Cmd = { kind: 'command' } & CommandSpec;

export const sh = (script: string, name: string, args: string[], timeoutMs = 60_000): Cmd => ({
  kind: 'command',
  argv: ['sh', '-c', script, name, ...args],
  where: 'host',
  timeoutMs,
});

/** cctrl reads its commands from stdin; the datasource name comes from the topology. */
export const cctrl = (command: string): Cmd => ({
  kind: 'command',
  argv: ['${node.binDir}/cctrl', '-expert'],
  where: 'host',
  stdin: `${command}\nexit\n`,
  timeoutMs: 120_000,
});

export const SEQNO = '\\d{1,19}';
export const EVENT_ID = '[A-Za-z0-9_.-]+\\.\\d+:\\d{16}';
export const SOURCE_ID = '[A-Za-z0-9][A-Za-z0-9_.-]{0,127}';

export const waitState = (id: string, title: string, state: string, timeoutMs: number): StepTemplate => ({
  id,
  title,
  target: on('target'),
  action: {
    kind: 'wait-until',
    probe: {
      ...sh(REPLICATOR_STATE, 'state', ['${node.binDir}', '${service}'], 30_000),
      outputs: [{ name: 'state', pattern: '^state: (\\S+)' }],
    },
    until: equals('state', state),
    intervalMs: 500,
    timeoutMs,
    timeoutMessage: `the replicator of \${node.name} did not reach ${state}`,
  },
  risk: 'read',
});
