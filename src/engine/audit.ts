import type { Redis } from 'ioredis';
import { RecoverKeys } from './keys';
import type { AuditEvent } from './types';

export interface AuditOptions {
  prefix?: string;
  /** Approximate cap of the all-runs stream; a run's own stream is never trimmed. */
  globalMaxLen?: number;
}

/** Cap of the all-runs stream (approximate); a run's own stream is never trimmed. */
export const AUDIT_ALL_MAXLEN = 10_000;

/** Append-only: one Redis stream per run, plus a capped stream of every run's events. */
export class AuditLog {
  private readonly keys: RecoverKeys;
  private readonly globalMaxLen: number;

  constructor(
    private readonly redis: Redis,
    options: AuditOptions = {},
  ) {
    this.keys = new RecoverKeys(options.prefix);
    this.globalMaxLen = options.globalMaxLen ?? AUDIT_ALL_MAXLEN;
  }

  /** Returns the entry id in the run's stream. */
  async append(event: AuditEvent): Promise<string> {
    const body = JSON.stringify(event);
    // MULTI: both streams get the event or neither does.
    const replies = await this.redis
      .multi()
      .xadd(this.keys.audit(event.runId), '*', 'event', body)
      .xadd(this.keys.auditAll(), 'MAXLEN', '~', this.globalMaxLen, '*', 'event', body)
      .exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed) throw failed?.[0] ?? new Error('audit append was discarded');
    return String(replies[0]![1]);
  }

  /** A run's events in the order they were appended. */
  async read(runId: string): Promise<AuditEvent[]> {
    return parse(await this.redis.xrange(this.keys.audit(runId), '-', '+'));
  }

  /** The latest events of every run, oldest first (for history views). */
  async recent(count = 100): Promise<AuditEvent[]> {
    return parse(await this.redis.xrevrange(this.keys.auditAll(), '+', '-', 'COUNT', count)).reverse();
  }
}

function parse(entries: [id: string, fields: string[]][]): AuditEvent[] {
  return entries.flatMap(([, fields]) => {
    const i = fields.indexOf('event');
    const body = i >= 0 ? fields[i + 1] : undefined;
    return body === undefined ? [] : [JSON.parse(body) as AuditEvent];
  });
}
