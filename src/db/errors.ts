export type DbErrorCode =
  'CONNECT_TIMEOUT' | 'REFUSED' | 'AUTH' | 'STATEMENT_TIMEOUT' | 'MISSING_OBJECT' | 'QUERY';

/** A database failure with the node it happened on; the message never carries a password. */
export class DbError extends Error {
  constructor(
    readonly code: DbErrorCode,
    readonly node: string,
    message: string,
    readonly driverCode?: string,
  ) {
    super(message);
    this.name = 'DbError';
  }
}

const connectCodes = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'ECONNRESET',
  'EPIPE',
]);

/** Map pg and mysql2 errors onto a few codes an operator can act on. */
export function classifyDbError(node: string, err: unknown): DbError {
  if (err instanceof DbError) return err;
  const e = err as { code?: string; errno?: number; message?: string; sqlMessage?: string };
  const code = e.code ?? '';
  const text = oneLine(e.sqlMessage ?? e.message ?? String(err));
  if (code === 'ECONNREFUSED') return new DbError('REFUSED', node, `connection refused (${text})`, code);
  if (connectCodes.has(code)) return new DbError('REFUSED', node, `cannot connect: ${text}`, code);
  if (code === 'ETIMEDOUT' || /timeout expired|connection terminated due to connection timeout/i.test(text))
    return new DbError('CONNECT_TIMEOUT', node, `connect timed out (${text})`, code);
  // 28P01/28000: PostgreSQL auth; ER_ACCESS_DENIED_ERROR / ER_DBACCESS_DENIED_ERROR: MySQL.
  if (
    code === '28P01' ||
    code === '28000' ||
    code === 'ER_ACCESS_DENIED_ERROR' ||
    code === 'ER_DBACCESS_DENIED_ERROR'
  )
    return new DbError('AUTH', node, `authentication failed: ${text}`, code);
  // 57014: PostgreSQL statement_timeout; 1969/3024: MariaDB/MySQL max statement time; PROTOCOL_SEQUENCE_TIMEOUT: mysql2's client timeout.
  if (
    code === '57014' ||
    code === 'ER_STATEMENT_TIMEOUT' ||
    code === 'PROTOCOL_SEQUENCE_TIMEOUT' ||
    e.errno === 1969 ||
    e.errno === 3024
  )
    return new DbError('STATEMENT_TIMEOUT', node, `statement timed out (${text})`, code);
  // 42P01 undefined table, 3D000 unknown database; ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR.
  if (code === '42P01' || code === '3D000' || code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR')
    return new DbError('MISSING_OBJECT', node, text, code);
  return new DbError('QUERY', node, text, code || undefined);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
