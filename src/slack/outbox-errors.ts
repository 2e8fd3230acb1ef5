/** Slack Web API errors as the outbox sees them: which are rate limits, what to tell a caller. */
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';

/** A Slack call that failed; `slackError` is Slack's code (`channel_not_found`, `not_in_channel`, …). */
export class SlackOutboxError extends Error {
  readonly code = 'SLACK_CALL_FAILED';
  constructor(
    readonly method: string,
    readonly slackError: string,
  ) {
    super(`Slack ${method} failed: ${slackError}`);
    this.name = 'SlackOutboxError';
  }
}

/**
 * The WebClient the outbox expects: no retries of its own (the outbox retries, in order) and
 * rate limits surfaced at once instead of slept through inside the client.
 */
export function createSlackWebClient(token: string, slackApiUrl?: string): WebClient {
  return new WebClient(token, {
    ...(slackApiUrl ? { slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
}

interface SlackishError {
  code?: string;
  message?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string; response_metadata?: { retryAfter?: number } };
  original?: { message?: string };
}

/** How long Slack asked us to wait, or undefined when the error is not a rate limit. */
export function rateLimitDelay(err: unknown): number | undefined {
  const e = (err ?? {}) as SlackishError;
  if (e.code === ErrorCode.RateLimitedError) return (e.retryAfter ?? 1) * 1000;
  if (e.code === ErrorCode.PlatformError && e.data?.error === 'ratelimited') {
    return (e.data.response_metadata?.retryAfter ?? 1) * 1000;
  }
  // A WebClient built without rejectRateLimitedCalls has already slept through Retry-After.
  if (e.code === ErrorCode.RequestError && /rate limit was exceeded/i.test(e.original?.message ?? ''))
    return 0;
  if (/Retry header did not contain a valid timeout/.test(e.message ?? '')) return 1000;
  return undefined;
}

export function toOutboxError(method: string, err: unknown): SlackOutboxError {
  const e = (err ?? {}) as SlackishError;
  let code: string;
  if (e.code === ErrorCode.PlatformError) code = e.data?.error ?? 'unknown_error';
  else if (e.code === ErrorCode.HTTPError) code = `http_${e.statusCode ?? 'error'}`;
  else if (e.code === ErrorCode.RateLimitedError) code = 'ratelimited';
  else code = `request_failed (${redact(e.original?.message ?? e.message ?? String(err))})`;
  return new SlackOutboxError(method, code);
}

/** Slack tokens never travel on in an error message. */
function redact(text: string): string {
  return text.replace(/\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+/g, '[token]');
}
