import { loadYamlFile } from '../../../config/load';
import { z } from 'zod';
import { DbEngine, SafeName } from '../../../config/topology';

/** Faults a fixture can be born with, to exercise probes on broken nodes. */
export const Fault = z.enum(['missing-replicator-id-table', 'non-numeric-sequence']);
export type Fault = z.infer<typeof Fault>;

const SeqNo = z.number().int().nonnegative();

export const ChangelogSpec = z
  .object({
    /** Highest sequenceno; rows run from last-count+1 to last. */
    last: SeqNo,
    count: z.number().int().nonnegative().max(1_000_000),
    /** idtag of the last row; the others are always "tag-<seq>". */
    idtag: z.string().min(1).max(64).optional(),
  })
  .strict()
  .refine((c) => c.count <= c.last, { message: 'count must not exceed last (sequencenos start at 1)' });

export const ReplicatorSpec = z
  .object({
    remote: SeqNo,
    local: SeqNo.optional(),
    tag: z.string().min(1).max(64).optional(),
  })
  .strict();
export type ReplicatorSpec = z.infer<typeof ReplicatorSpec>;

export const ScenarioNode = z
  .object({
    name: SafeName,
    engine: DbEngine,
    changelog: ChangelogSpec,
    replicator: ReplicatorSpec.optional(),
    replicatorIdRows: z.number().int().nonnegative().max(100_000).default(0),
    serverType: z.string().min(1).max(64).optional(),
    /** MariaDB only: a dedicated user with this password, exposed to the bot via passwordEnv. */
    password: z.string().min(1).max(128).optional(),
    faults: z.array(Fault).default([]),
  })
  .strict()
  .superRefine((n, ctx) => {
    if (n.password !== undefined && n.engine !== 'mysql') {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'only supported for engine mysql' });
    }
    if (n.replicatorIdRows > 0 && n.faults.includes('missing-replicator-id-table')) {
      ctx.addIssue({
        code: 'custom',
        path: ['replicatorIdRows'],
        message: 'cannot add rows to a ReplicatorIdTable the fault removes',
      });
    }
  });
export type ScenarioNode = z.infer<typeof ScenarioNode>;

export const Scenario = z
  .object({
    name: SafeName,
    flavour: z.literal('coremedia').default('coremedia'),
    master: SafeName,
    probeTimeoutMs: z.number().int().positive().optional(),
    nodes: z.array(ScenarioNode).min(1),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.nodes.forEach((n, i) => {
      if (seen.has(n.name))
        ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: 'duplicate' });
      seen.add(n.name);
    });
    if (!seen.has(s.master)) ctx.addIssue({ code: 'custom', path: ['master'], message: 'not a node name' });
  });
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

/** Seed 001: a master is a publication server, its slaves are live servers. */
export function serverTypeOf(scenario: Scenario, node: ScenarioNode): string {
  return node.serverType ?? (node.name === scenario.master ? 'publication' : 'live');
}

/** Reads and validates a scenario file; mistakes throw ConfigError naming file, line and path. */
export function loadScenarioFile(file: string): Scenario {
  return loadYamlFile(file, Scenario);
}
