import type { StepTemplate, TargetSpec } from '../../../runbook/types';

/**
 * The seeds' "fetch the last changelog entry … note the values of <sequenceno> and <idtag>",
 * with both values captured for the steps that follow.
 */
export function readLastChangelog(id: string, title: string, target: TargetSpec): StepTemplate {
  return {
    id,
    title,
    target,
    action: {
      kind: 'sql',
      sql: 'SELECT * FROM {{changelog}} WHERE sequenceno = (SELECT max(sequenceno) FROM {{changelog}})',
      params: [],
    },
    risk: 'read',
    captures: [
      { name: 'sequenceno', column: 'sequenceno' },
      { name: 'idtag', column: 'idtag' },
    ],
    check: { kind: 'row-count', min: 1 },
  };
}

/** How a host step is placed: its approval gate, and whether its nodes run at once. */
export interface StepPlacement {
  gate?: string;
  independent?: boolean;
}

function hostStep(
  id: string,
  title: string,
  target: TargetSpec,
  action: StepTemplate['action'],
  risk: StepTemplate['risk'],
  p: StepPlacement,
): StepTemplate {
  return {
    id,
    title,
    target,
    action,
    risk,
    ...(p.independent ? { independent: true } : {}),
    ...(p.gate ? { gate: p.gate } : {}),
  };
}

// The risks live here, once: stopping a server, dropping a schema and restoring are destructive
// (a second person approves); starting a server and copying a key file are writes.

export const stopService = (id: string, title: string, target: TargetSpec, p: StepPlacement = {}) =>
  hostStep(id, title, target, { kind: 'service', operation: 'stop' }, 'destructive', p);

export const startService = (id: string, title: string, target: TargetSpec, p: StepPlacement = {}) =>
  hostStep(id, title, target, { kind: 'service', operation: 'start' }, 'write', p);

/** Seed 000 step 3 / seed 001 step 4: the Rijndael key, renamed to the target's database and user. */
export const copyKeyFrom = (
  id: string,
  title: string,
  target: TargetSpec,
  from: TargetSpec,
  p: StepPlacement = {},
) => hostStep(id, title, target, { kind: 'file-copy', from, file: 'rijndael-key' }, 'write', p);

/** "Delete the full … database schema" (seeds 000 and 001). */
export const dropSchema = (id: string, title: string, target: TargetSpec, p: StepPlacement = {}) =>
  hostStep(id, title, target, { kind: 'drop-schema' }, 'destructive', p);

/** Import a backup of `from` into the target, streamed (an online dump: the source keeps running). */
export const restoreFrom = (
  id: string,
  title: string,
  target: TargetSpec,
  from: TargetSpec,
  p: StepPlacement = {},
) => hostStep(id, title, target, { kind: 'dump-restore', from }, 'destructive', p);
