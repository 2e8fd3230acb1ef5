import { z } from 'zod';
import { Argv } from './argv';
import { MultisiteNodeSettings, MultisiteTopologySettings } from '../flavours/multisite/config';
import { PostgresNodeSettings, PostgresTopologySettings } from '../flavours/postgres-streaming/config';
import { TungstenNodeSettings, TungstenTopologySettings } from '../flavours/tungsten/config';

/** Names end up in Slack, job ids, database names and log lines: keep them boring. */
export const SafeName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,62}$/,
    'must start with a lower-case letter and use only a-z, 0-9, "_" and "-" (max 63)',
  );

/** An environment variable name, never its value: secrets stay out of files, Slack and logs. */
export const EnvName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name like RLS1_DB_PASSWORD');

export const DbEngine = z.enum(['postgres', 'mysql']);
export type DbEngine = z.infer<typeof DbEngine>;

export const DbConfig = z
  .object({
    engine: DbEngine,
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be a plain database name'),
    user: z.string().min(1).max(63),
    passwordEnv: EnvName.optional(),
    /** Present only so an inline password gets a useful error instead of "unrecognized key". */
    password: z
      .never({
        error: 'inline passwords are not allowed: set an environment variable and name it in passwordEnv',
      })
      .optional(),
    /** How long to wait for the TCP connect and the server's greeting. */
    connectTimeoutMs: z.number().int().positive().default(3000),
    /** Server-side limit for every statement on this node. */
    statementTimeoutMs: z.number().int().positive().default(10000),
  })
  .strict();
export type DbConfig = z.infer<typeof DbConfig>;

export { Argv } from './argv';

/** How Recover reaches a node's host: over SSH (production) or as local processes (the demo, one host). */
export const HostConfig = z.discriminatedUnion('transport', [
  z
    .object({
      transport: z.literal('ssh'),
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(22),
      user: z.string().min(1),
      /** Private key file on the bot host; never inline. */
      keyPath: z.string().min(1),
      /** known_hosts file the host key must be in: no blind trust. */
      knownHostsPath: z.string().min(1),
      connectTimeoutMs: z.number().int().positive().default(5000),
    })
    .strict(),
  z.object({ transport: z.literal('local') }).strict(),
]);
export type HostConfig = z.infer<typeof HostConfig>;

/** The Live Server process: how to stop, start and ask about it. */
export const ServiceConfig = z
  .object({
    stop: Argv,
    start: Argv,
    status: Argv,
    /** `status` printing a line that matches this means running (default: exit code 0 means running). */
    runningPattern: z.string().optional(),
    /** How long stop/start may take until status agrees. */
    timeoutMs: z.number().int().positive().default(120_000),
  })
  .strict();
export type ServiceConfig = z.infer<typeof ServiceConfig>;

export const NodeConfig = z
  .object({
    name: SafeName,
    /** Absent for hosts reached only by commands (a flavour says whether it needs SQL on every node). */
    db: DbConfig.optional(),
    host: HostConfig.optional(),
    service: ServiceConfig.optional(),
    /** <CoreMediaHome>: the Rijndael key lives in etc/keys/<database>.<user>.rijndael below it. */
    coremediaHome: z.string().startsWith('/', 'must be an absolute path').optional(),
    postgres: PostgresNodeSettings.optional(),
    tungsten: TungstenNodeSettings.optional(),
    multisite: MultisiteNodeSettings.optional(),
  })
  .strict();
export type NodeConfig = z.infer<typeof NodeConfig>;

export const FlavourName = z.enum(['coremedia', 'tungsten', 'postgres-streaming', 'multisite']);
export type FlavourName = z.infer<typeof FlavourName>;

export const ProbeSettings = z
  .object({
    /** Upper bound for one node's whole probe; a node past it is reported unknown. */
    timeoutMs: z.number().int().positive().default(5000),
  })
  .strict();

/** A person or a group: Slack user ids (U…), user-group ids (S…), or terminal names. */
export const Principal = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a user or group id (letters, digits, . _ -)');

export const Access = z
  .object({
    /** Who may start runs; absent means anyone who can reach the bot. */
    requesters: z.array(Principal).optional(),
    /** Who may approve destructive steps (never the requester of the same run). */
    approvers: z.array(Principal).default([]),
    approvalTtlMinutes: z
      .number()
      .positive()
      .max(24 * 60)
      .default(15),
    /** Slack channel ids the bot answers in for this topology; absent means any channel. */
    channels: z.array(Principal).optional(),
  })
  .strict();
export type Access = z.infer<typeof Access>;

/** Slack channel id an alert is posted in (C…, G…), or a terminal name for `recover monitor`. */
export const ChannelId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a channel id like C0ALERTS');

export const MonitorThresholds = z
  .object({
    /** Slaves' replicator_remote spread (max − min) above maxDelta for longer than forMs opens an alert. */
    divergence: z
      .object({
        maxDelta: z.number().int().nonnegative().default(0),
        forMs: z.number().int().nonnegative().default(120_000),
      })
      .strict()
      .default({ maxDelta: 0, forMs: 120_000 }),
    /** A node that cannot be reached for longer than this opens an alert. */
    unreachableForMs: z.number().int().nonnegative().default(60_000),
    /** A condition that clears and returns within this window updates the same alert. */
    flapWindowMs: z.number().int().nonnegative().default(600_000),
  })
  .strict();
export type MonitorThresholds = z.infer<typeof MonitorThresholds>;

const DEFAULT_THRESHOLDS: MonitorThresholds = {
  divergence: { maxDelta: 0, forMs: 120_000 },
  unreachableForMs: 60_000,
  flapWindowMs: 600_000,
};

/** Ambient monitoring of one topology (README: Monitoring). */
export const MonitorSettings = z
  .object({
    enabled: z.boolean().default(true),
    /** How often every node is probed. */
    intervalMs: z.number().int().min(200).default(30_000),
    /** Spread of the topologies' poll phases: each gets a stable offset in [0, jitterMs) from its name. */
    jitterMs: z.number().int().nonnegative().optional(),
    /** An open alert's message is shown again ("last seen" moves) at least this often while it lasts. */
    refreshMs: z.number().int().min(1000).default(60_000),
    /** Where alerts go; absent: the first of access.channels. */
    alertChannel: ChannelId.optional(),
    thresholds: MonitorThresholds.default(DEFAULT_THRESHOLDS),
  })
  .strict();
export type MonitorSettings = z.infer<typeof MonitorSettings>;

export const Topology = z
  .object({
    name: SafeName,
    flavour: FlavourName,
    /** The node that is master (primary) by configuration; flavours that find it by probing may omit it. */
    master: SafeName.optional(),
    nodes: z.array(NodeConfig).min(1),
    postgres: PostgresTopologySettings.optional(),
    tungsten: TungstenTopologySettings.optional(),
    multisite: MultisiteTopologySettings.optional(),
    probe: ProbeSettings.default({ timeoutMs: 5000 }),
    access: Access.default({ approvers: [], approvalTtlMinutes: 15 }),
    // Every topology is watched unless it says `monitor: { enabled: false }` (or has no channel).
    monitor: MonitorSettings.default({
      enabled: true,
      intervalMs: 30_000,
      refreshMs: 60_000,
      thresholds: DEFAULT_THRESHOLDS,
    }),
  })
  .strict();
export type Topology = z.infer<typeof Topology>;

export const RecoverConfig = z
  .object({
    topologies: z.array(Topology).min(1),
    /** Group membership for the terminal (Slack resolves its own user groups). */
    groups: z.record(Principal, z.array(Principal)).default({}),
  })
  .strict();
export type RecoverConfig = z.infer<typeof RecoverConfig>;

/** A node Recover reaches over SQL. */
export type SqlNode = NodeConfig & { db: DbConfig };

export const isSqlNode = (node: NodeConfig): node is SqlNode => node.db !== undefined;

export class NoDatabaseError extends Error {
  readonly code = 'NO_DATABASE';
  constructor(readonly node: string) {
    super(`node ${node} has no db section: this step needs SQL on it (add db to the node in the topology)`);
    this.name = 'NoDatabaseError';
  }
}

/** The node as one with SQL access, or a clear error naming it. */
export function requireSql(node: NodeConfig): SqlNode {
  if (!isSqlNode(node)) throw new NoDatabaseError(node.name);
  return node;
}

/** A topology with a named master and SQL on every node (CoreMedia's shape, and the test fleets'). */
export type SqlTopology = Omit<Topology, 'master' | 'nodes'> & { master: string; nodes: SqlNode[] };

/** NodeConfig with its db section required: for code and tests that build SQL nodes directly. */
export const SqlNodeConfig = NodeConfig.extend({ db: DbConfig });
