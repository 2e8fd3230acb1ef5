import { z } from 'zod';
import { Argv } from '../../config/argv';

/** Per node of a postgres-streaming topology: where its cluster lives and how it ranks as a candidate. */
export const PostgresNodeSettings = z
  .object({
    /** The cluster's data directory on its host (pg_ctl -D, pg_rewind --target-pgdata). */
    dataDir: z.string().startsWith('/', 'must be an absolute path'),
    /** Directory of pg_ctl, pg_rewind, pg_basebackup, pg_controldata on the host. */
    binDir: z.string().startsWith('/', 'must be an absolute path').default('/usr/lib/postgresql/15/bin'),
    /** Data center name: candidates in `preferDataCenters` order win ties (seed 003: promote in the other DC). */
    dataCenter: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,31}$/)
      .default('default'),
    /** Higher wins a tie; 0 = never promote (repmgr's meaning). */
    priority: z.number().int().min(0).max(1000).default(100),
    /** Receives base backups only ("backup" nodes of seed 003): never a candidate without an allow-data-loss gate. */
    backupOnly: z.boolean().default(false),
    /** WAL archive directory this node writes to as primary and reads (restore_command) as standby. */
    archiveDir: z.string().startsWith('/', 'must be an absolute path').optional(),
    /**
     * How other nodes stream from this one: libpq keywords without a password (use a .pgpass
     * on the hosts), e.g. "host=10.0.0.5 port=5432 user=replicator".
     */
    conninfo: z
      .string()
      .regex(/^[a-z_]+=\S+( [a-z_]+=\S+)*$/, 'must be libpq keywords like "host=h port=5432 user=u"')
      .refine((s) => !/\bpassword=/.test(s), 'must not contain a password: use .pgpass on the host'),
    /**
     * Settings that belong to this node, not its data: re-applied after pg_rewind and
     * pg_basebackup, which copy postgresql.conf/auto.conf from the source (SYSTEMS.md §2.5).
     */
    localSettings: z.record(z.string().regex(/^[a-z_]+$/), z.union([z.string(), z.number()])).default({}),
  })
  .strict();
export type PostgresNodeSettings = z.infer<typeof PostgresNodeSettings>;

/** Per topology: the failover rules' knobs. */
export const PostgresTopologySettings = z
  .object({
    /** Tie-break order of data centers for the candidate. */
    preferDataCenters: z.array(z.string()).default([]),
    /** Loss above this (bytes) needs the allow-data-loss gate even when every standby answered. */
    maxLagBytes: z
      .number()
      .int()
      .nonnegative()
      .default(1024 * 1024),
    /** Run on the bot host to fence an old primary whose host cannot be reached (e.g. a STONITH call). */
    fenceCommand: Argv.optional(),
    /** Link rate between data centers in bytes/s, keyed "from->to", for the WAN transfer estimate. */
    linkRates: z.record(z.string().regex(/^[a-z0-9_-]+->[a-z0-9_-]+$/), z.number().positive()).default({}),
    /** pg_basebackup --max-rate across data centers (bytes/s); absent = unlimited. */
    maxRate: z.number().int().positive().optional(),
  })
  .strict();
export type PostgresTopologySettings = z.infer<typeof PostgresTopologySettings>;
