import { z } from 'zod';
import { Argv } from '../../config/argv';

/** A replica's or family's name as MultiSite prints it (also used as argv elements, never parsed by a shell). */
export const ReplicaName = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/, 'must be a plain replica name');

/** One family (ClearQuest) or VOB (ClearCase): how its MultiSite CLI is called (SYSTEMS.md §1). */
export const MultisiteTopologySettings = z
  .object({
    /** clearquest: `multiutil … -family F -clan C -site S -user U -password P`; clearcase: `multitool … -invob V`. */
    dialect: z.enum(['clearquest', 'clearcase']),
    /** ClearQuest replica family (database set). */
    family: ReplicaName.optional(),
    /** ClearCase VOB tag (e.g. /vobs/dev). */
    vobTag: z
      .string()
      .regex(/^\/[A-Za-z0-9_./-]+$/, 'must be a VOB tag like /vobs/dev')
      .optional(),
    clan: ReplicaName.optional(),
    user: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .optional(),
    /**
     * Name of the environment variable holding the ClearQuest password, set on each replica host
     * for the SSH user (never a value: it stays out of argv shown anywhere, plans, job data and logs).
     */
    passwordEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    /** How long a sibling may stay silent after R's restoration packet before R exports to it again. */
    reexportAfterMs: z.number().int().positive().default(30_000),
  })
  .strict()
  .refine((s) => (s.dialect === 'clearquest' ? !!s.family : !!s.vobTag), {
    message: 'clearquest needs family; clearcase needs vobTag',
  });
export type MultisiteTopologySettings = z.infer<typeof MultisiteTopologySettings>;

/** Per replica host: where the CLIs and the storage bay live, and how its database is restored. */
export const MultisiteNodeSettings = z
  .object({
    /** The replica's MultiSite name (default: the node's name). */
    replica: ReplicaName.optional(),
    /** ClearQuest site name of this replica (-site); default: the replica name. */
    site: ReplicaName.optional(),
    /** Directory of multiutil / multitool / cleartool on the host. */
    binDir: z.string().startsWith('/', 'must be an absolute path'),
    /** Storage bay holding incoming/ and outgoing/. */
    bay: z.string().startsWith('/', 'must be an absolute path'),
    /** The vendor database restore, run on this host when this replica is restored (step 1). */
    restore: Argv.optional(),
    /**
     * The backup's manifest: a file of `key=value` lines, at least `own_ops=N` (this replica's own
     * oplog count at backup time); `taken_at=` is shown when present. Missing: no loss window.
     */
    manifest: z.string().startsWith('/', 'must be an absolute path').optional(),
  })
  .strict();
export type MultisiteNodeSettings = z.infer<typeof MultisiteNodeSettings>;
