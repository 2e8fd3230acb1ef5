import type { StepTemplate, TargetSpec } from './types';

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
