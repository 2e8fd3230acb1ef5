/**
 * What of a command's output may be shown: its tail, with secrets replaced. Output can be huge
 * (a dump's progress) and can echo passwords (a failing client printing its connection string).
 */

export const REDACTED = '[redacted]';

/** Default bytes kept of each of stdout and stderr. */
export const TAIL_BYTES = 8 * 1024;

/**
 * Values of assignments that look like credentials: password=…, PGPASSWORD=…, MYSQL_PWD=…,
 * secret: …, token=…, and the password in a URL (scheme://user:password@host).
 */
const ASSIGNMENT =
  /\b([A-Za-z_]*(?:password|passwd|secret|token)|MYSQL_PWD)([ \t]*[=:][ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s'"&;,]+)/gi;
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)(@)/gi;

/** Replaces every secret value, and anything that looks like a credential assignment, with [redacted]. */
export function redact(text: string, secrets: readonly string[] = []): string {
  return redactFrom(text, secrets, 0);
}

/**
 * Redacts text and returns only the part from `from` on. The part before is context: a secret
 * that starts there and ends after `from` is still found whole and hidden, not half shown.
 */
export function redactFrom(text: string, secrets: readonly string[], from: number): string {
  const spans: [number, number][] = [];
  for (const secret of secrets) {
    if (!secret) continue;
    for (let i = text.indexOf(secret); i !== -1; i = text.indexOf(secret, i + 1)) {
      spans.push([i, i + secret.length]);
    }
  }
  for (const match of text.matchAll(ASSIGNMENT)) {
    const start = match.index + (match[1] ?? '').length + (match[2] ?? '').length;
    spans.push([start, start + (match[3] ?? '').length]);
  }
  for (const match of text.matchAll(URL_PASSWORD)) {
    const start = match.index + (match[1] ?? '').length;
    spans.push([start, start + (match[2] ?? '').length]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let pos = from;
  for (const [start, end] of spans) {
    if (end <= pos) continue; // before the visible part, or inside a span already replaced
    out += text.slice(pos, Math.max(start, pos)) + REDACTED;
    pos = end;
  }
  return out + text.slice(pos);
}

/**
 * The last `limit` bytes of a stream, in a fixed ring: memory stays bounded however much the
 * command prints. A few bytes more are kept in front as context for redaction (see redactFrom).
 */
export class OutputTail {
  private readonly ring: Buffer;
  private start = 0;
  private length = 0;
  private total = 0;

  constructor(
    private readonly limit = TAIL_BYTES,
    private readonly secrets: readonly string[] = [],
  ) {
    const longest = Math.max(0, ...secrets.map((s) => Buffer.byteLength(s)));
    this.ring = Buffer.alloc(limit + Math.max(256, longest));
  }

  /** Bytes seen in all, kept or not. */
  get totalBytes(): number {
    return this.total;
  }

  push(chunk: Buffer | string): void {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.total += data.length;
    const cap = this.ring.length;
    if (data.length >= cap) {
      data.copy(this.ring, 0, data.length - cap);
      this.start = 0;
      this.length = cap;
      return;
    }
    let end = (this.start + this.length) % cap;
    const first = Math.min(data.length, cap - end);
    data.copy(this.ring, end, 0, first);
    data.copy(this.ring, 0, first);
    end = this.length + data.length;
    if (end > cap) this.start = (this.start + end - cap) % cap;
    this.length = Math.min(cap, end);
  }

  /** The kept tail as text (at most `limit` bytes of it), redacted. */
  text(): string {
    const raw = Buffer.concat([
      this.ring.subarray(this.start, Math.min(this.start + this.length, this.ring.length)),
      this.ring.subarray(0, Math.max(0, this.start + this.length - this.ring.length)),
    ]);
    // Cut so that the visible part is at most `limit` bytes and starts on a UTF-8 character.
    const truncated = this.total > this.limit;
    let cut = Math.max(0, raw.length - this.limit);
    while (truncated && cut < raw.length && isContinuation(raw[cut])) cut++;
    let headStart = 0;
    while (this.total > raw.length && headStart < cut && isContinuation(raw[headStart])) headStart++;
    const head = raw.subarray(headStart, cut).toString('utf8');
    return redactFrom(head + raw.subarray(cut).toString('utf8'), this.secrets, head.length);
  }
}

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}
