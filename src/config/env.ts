/**
 * The one place that reads process.env. Everything else receives settings as arguments,
 * so modules stay testable and nothing secret is read by accident.
 */
/** The process environment, handed to the composition roots (CLI, bot) and from there down as a value. */
export function processEnv(): NodeJS.ProcessEnv {
  return process.env;
}

export interface ServiceUrls {
  /** Admin connection used by the fleet fixtures and tests (never by the bot itself). */
  fleetPostgresUrl: string;
  fleetMysqlUrl: string;
  redisUrl: string;
}

export function serviceUrls(env: NodeJS.ProcessEnv = process.env): ServiceUrls {
  return {
    fleetPostgresUrl: env.RECOVER_FLEET_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    fleetMysqlUrl: env.RECOVER_FLEET_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

/** A node's password, looked up by the variable name the topology gives. Undefined when unset. */
export function secretFromEnv(
  name: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (!name) return undefined;
  return env[name];
}

export function logLevel(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOG_LEVEL ?? 'info';
}

/** The topology file used when a command is not given --config. */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.RECOVER_CONFIG ?? 'recover.yaml';
}

/** Key prefix for everything Recover keeps in Redis (BullMQ queues included); tests use their own. */
export function redisPrefix(env: NodeJS.ProcessEnv = process.env): string {
  return env.RECOVER_REDIS_PREFIX ?? 'recover';
}

/**
 * Worker lock, stall-check and watchdog periods; short in tests so a killed worker's job is
 * picked up fast.
 */
export function workerTimings(env: NodeJS.ProcessEnv = process.env): {
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  watchdogMs?: number;
} {
  const lock = Number(env.RECOVER_LOCK_MS);
  const stalled = Number(env.RECOVER_STALLED_MS);
  const watchdog = Number(env.RECOVER_WATCHDOG_MS);
  return {
    ...(lock > 0 ? { lockDurationMs: lock } : {}),
    ...(stalled > 0 ? { stalledIntervalMs: stalled } : {}),
    ...(watchdog > 0 ? { watchdogMs: watchdog } : {}),
  };
}

/** The raw Slack settings; src/slack/settings.ts validates them. Values are secrets: never log them. */
export function slackEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  return {
    SLACK_MODE: env.SLACK_MODE,
    SLACK_BOT_TOKEN: env.SLACK_BOT_TOKEN,
    SLACK_APP_TOKEN: env.SLACK_APP_TOKEN,
    SLACK_SIGNING_SECRET: env.SLACK_SIGNING_SECRET,
    PORT: env.PORT,
    SLACK_API_URL: env.SLACK_API_URL,
  };
}

/** Who the chat shell acts as until `/as` says otherwise. */
export function shellUser(env: NodeJS.ProcessEnv = process.env): string {
  return env.RECOVER_USER ?? env.USER ?? 'operator';
}

/** REDIS_URL only when the user set it (the demo starts its own Redis otherwise). */
export function demoRedisUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.REDIS_URL || undefined;
}

/** The file the bot touches while it is healthy (the container's health check reads it). */
export function heartbeatFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.RECOVER_HEARTBEAT_FILE || undefined;
}

/** The passwords of a topology (its nodes' databases, a MultiSite CLI's), to redact from every command's output. */
export function secretsOf(
  topology: { nodes: { db?: { passwordEnv?: string } }[]; multisite?: { passwordEnv?: string } },
  env?: NodeJS.ProcessEnv,
): string[] {
  return [...topology.nodes.map((n) => n.db?.passwordEnv), topology.multisite?.passwordEnv]
    .map((name) => secretFromEnv(name, env))
    .filter((s): s is string => !!s);
}
