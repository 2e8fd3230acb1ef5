import { z } from 'zod';

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, . _ - only');

/**
 * The backup a restore puts on this node, and where its binlog position is read from (SYSTEMS.md
 * §3.1): `dump` = a mariadb-dump/mysqldump file written with --master-data (its header carries
 * `CHANGE MASTER TO MASTER_LOG_FILE='…', MASTER_LOG_POS=…`); `mariabackup` = a prepared
 * mariabackup/xtrabackup directory (its `xtrabackup_binlog_info`). `from` says whose binlog that
 * position is in: a backup of the primary is compared with the restored trep_commit_seqno; a
 * backup of a replica is not (its trep row is the authority, SYSTEMS.md §3.2).
 */
export const TungstenBackup = z
  .object({
    kind: z.enum(['dump', 'mariabackup']),
    /** The dump file, or the prepared backup directory, on this node's host. */
    path: z.string().startsWith('/', 'must be an absolute path'),
    from: z.enum(['primary', 'replica']),
    /**
     * The restore itself: a program on the host run as `<restore> <path>` (stop the database, copy
     * back, start it). A dump without one is loaded with `tpm mysql < path`; a mariabackup
     * directory needs one.
     */
    restore: z.string().startsWith('/', 'must be an absolute path').optional(),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(6 * 3600_000),
  })
  .strict()
  .refine((b) => b.kind === 'dump' || b.restore !== undefined, {
    message:
      'a mariabackup restore needs `restore` (the program that stops the server, copies back and starts it)',
    path: ['restore'],
  });
export type TungstenBackup = z.infer<typeof TungstenBackup>;

/** Per node of a tungsten topology. */
export const TungstenNodeSettings = z
  .object({
    /** The datasource name cctrl and the replicator use for this node (default: the node's name). */
    datasource: Name.optional(),
    /** Directory of trepctl, thl, dsctl, cctrl and tpm on the host. */
    binDir: z
      .string()
      .startsWith('/', 'must be an absolute path')
      .default('/opt/continuent/tungsten/cluster-home/bin'),
    /** The source id this node's events carry in the THL when it is the primary (default: the datasource name). */
    sourceId: Name.optional(),
    backup: TungstenBackup.optional(),
  })
  .strict();
export type TungstenNodeSettings = z.infer<typeof TungstenNodeSettings>;

/** Per topology: the replication service. */
export const TungstenTopologySettings = z
  .object({
    /** The replication service (`-service alpha`). */
    service: z.string().regex(/^[a-z][a-z0-9_]{0,30}$/, 'a Tungsten service name: a-z, 0-9, _'),
    /** Replica applied latency above this (seconds) is a warning in status and an alert. */
    maxLatencySeconds: z.number().positive().default(60),
  })
  .strict();
export type TungstenTopologySettings = z.infer<typeof TungstenTopologySettings>;

/** The schema the replicator keeps its restart point in: tungsten_<service>. */
export const tungstenSchema = (service: string): string => `tungsten_${service}`;
