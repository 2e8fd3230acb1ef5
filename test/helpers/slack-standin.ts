/**
 * Slack, faked at the wire: a loopback Web API that records every call, a Socket Mode WebSocket,
 * a response_url sink, and correctly signed requests into the app's real HTTP receiver. The app
 * under test talks to it through its real WebClient / Bolt; nothing of the app is stubbed.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedCall {
  method: string;
  /** Form or JSON decoded; `blocks`/`attachments`/`metadata` parsed. Never holds a token (see tokenOf). */
  args: Record<string, unknown>;
  /** Date.now() on arrival. */
  at: number;
}
export interface StandinReply {
  status?: number;
  headers?: Record<string, string>;
  /** Omitted: the built-in answer (so a responder can only add a delay). */
  body?: unknown;
  delayMs?: number;
}
/** Returns undefined to fall through to the built-in answer. */
export type Responder = (call: RecordedCall) => StandinReply | undefined | Promise<StandinReply | undefined>;
export interface StoredMessage {
  channel: string;
  ts: string;
  text: unknown;
  blocks: unknown;
  thread_ts?: string;
  updates: number;
}
/** A file shared through files.uploadV2 (getUploadURLExternal → upload → completeUploadExternal). */
export interface UploadedFile {
  id: string;
  filename: string;
  title?: string;
  content: string;
  channel?: string;
  threadTs?: string;
  initialComment?: string;
  at: number;
}
export interface RecordedResponse {
  id: string;
  body: unknown;
  at: number;
}
export interface SocketAck {
  envelopeId: string;
  /** What the app put in its ack (`{}` for a bare ack()). */
  payload: unknown;
  ms: number;
}
export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';
export interface StandinOptions {
  teamId?: string;
  botId?: string;
  botUserId?: string;
  appId?: string;
  groups?: Record<string, string[]>;
}

export interface SlackStandin {
  /** Give this to the app as slackApiUrl. */
  url: string;
  calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  /** The bearer (or body) token of a call, kept out of `args` so leak checks can scan args freely. */
  tokenOf(call: RecordedCall): string | undefined;
  /** Polls until predicate returns something truthy, and resolves with it. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  setResponder(method: string, fn: Responder | null): void;
  /** usergroups.users.list answers from here; edit freely. */
  groups: Map<string, string[]>;
  /** Current state of every posted message, keyed `${channel}/${ts}`. */
  message(channel: string, ts: string): StoredMessage | undefined;
  responseUrl(id: string): string;
  responses: RecordedResponse[];
  /** Files whose upload was completed into a channel, oldest first. */
  files: UploadedFile[];
  socket: {
    connections(): number;
    waitForConnection(timeoutMs?: number): Promise<void>;
    /** Sends an envelope to the newest connection; resolves on the app's ack. */
    send(type: EnvelopeType, payload: unknown, timeoutMs?: number): Promise<SocketAck>;
    /** Slack's `disconnect` message: a well-behaved client reconnects. */
    requestRefresh(): void;
  };
  /** Stop the app first: a live Socket Mode client would try to reconnect. */
  close(): Promise<void>;
}

const JSON_FIELDS = ['blocks', 'attachments', 'metadata', 'files'];
/** Slack answers 404 to the sixth use of a response_url. */
const RESPONSE_URL_USES = 5;

export async function startSlackStandin(options: StandinOptions = {}): Promise<SlackStandin> {
  const ids = {
    teamId: 'T0STANDIN',
    botId: 'B0RECOVER',
    botUserId: 'U0RECOVER',
    appId: 'A0RECOVER',
    ...options,
  };
  const calls: RecordedCall[] = [];
  const tokens = new WeakMap<RecordedCall, string | undefined>();
  const responders = new Map<string, Responder>();
  const groups = new Map(Object.entries(options.groups ?? {}));
  const messages = new Map<string, StoredMessage>();
  const responses: RecordedResponse[] = [];
  const uploads = new Map<string, { filename: string; length: number; content?: string }>();
  const files: UploadedFile[] = [];
  let fileSeq = 0;
  const timers = new Set<NodeJS.Timeout>();
  const pendingAcks = new Map<string, { resolve(ack: SocketAck): void; started: number }>();
  const sockets: WebSocket[] = [];
  const epoch = Math.floor(Date.now() / 1000);
  let seq = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => (timers.delete(t), resolve()), ms);
      timers.add(t);
    });

  function builtin(method: string, a: Record<string, unknown>, token: string | undefined): unknown {
    if (!token) return { ok: false, error: 'not_authed' };
    const appToken = token.startsWith('xapp-');
    if (appToken !== (method === 'apps.connections.open'))
      return { ok: false, error: 'not_allowed_token_type' };
    const channel = typeof a.channel === 'string' ? a.channel : '';
    switch (method) {
      case 'auth.test':
        return { ok: true, team_id: ids.teamId, user_id: ids.botUserId, bot_id: ids.botId, user: 'recover' };
      case 'apps.connections.open':
        return { ok: true, url: `ws://127.0.0.1:${port}/socket` };
      case 'chat.postMessage': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (a.text === undefined && a.blocks === undefined) return { ok: false, error: 'no_text' };
        // Slack's ts: seconds.micro, unique and increasing per workspace.
        const ts = `${epoch}.${String(++seq).padStart(6, '0')}`;
        const thread_ts = typeof a.thread_ts === 'string' ? a.thread_ts : undefined;
        const stored = { channel, ts, text: a.text, blocks: a.blocks, thread_ts, updates: 0 };
        messages.set(`${channel}/${ts}`, stored);
        const message = { type: 'message', ...stored, bot_id: ids.botId, user: ids.botUserId };
        return { ok: true, channel, ts, message };
      }
      case 'chat.update': {
        const stored = messages.get(`${channel}/${String(a.ts)}`);
        if (!stored) return { ok: false, error: 'message_not_found' };
        Object.assign(stored, { text: a.text, blocks: a.blocks, updates: stored.updates + 1 });
        return { ok: true, channel, ts: stored.ts, text: a.text, message: { ...stored } };
      }
      case 'chat.postEphemeral':
        if (!channel) return { ok: false, error: 'channel_not_found' };
        return { ok: true, message_ts: `${epoch}.${String(++seq).padStart(6, '0')}` };
      case 'files.getUploadURLExternal': {
        const length = Number(a.length);
        if (typeof a.filename !== 'string' || !Number.isInteger(length) || length <= 0)
          return { ok: false, error: 'invalid_arguments' };
        const file_id = `F0${String(++fileSeq).padStart(8, '0')}`;
        uploads.set(file_id, { filename: a.filename, length });
        return { ok: true, file_id, upload_url: `http://127.0.0.1:${port}/upload/${file_id}` };
      }
      case 'files.completeUploadExternal': {
        const list = Array.isArray(a.files) ? (a.files as { id: string; title?: string }[]) : [];
        const done: { id: string; title?: string }[] = [];
        for (const f of list) {
          const u = uploads.get(f.id);
          if (!u?.content) return { ok: false, error: 'file_not_found' };
          files.push({
            id: f.id,
            filename: u.filename,
            title: f.title,
            content: u.content,
            channel: typeof a.channel_id === 'string' ? a.channel_id : undefined,
            threadTs: typeof a.thread_ts === 'string' ? a.thread_ts : undefined,
            initialComment: typeof a.initial_comment === 'string' ? a.initial_comment : undefined,
            at: Date.now(),
          });
          done.push({ id: f.id, title: f.title });
        }
        return { ok: true, files: done };
      }
      case 'usergroups.users.list': {
        const users = groups.get(String(a.usergroup));
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'conversations.info':
        return {
          ok: true,
          channel: { id: channel, name: channel.toLowerCase(), is_channel: true, is_member: true },
        };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://standin').pathname;
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (path.startsWith('/response/')) {
      const id = decodeURIComponent(path.slice('/response/'.length));
      if (responses.filter((r) => r.id === id).length >= RESPONSE_URL_USES)
        return reply(404, { ok: false, error: 'used_url' });
      responses.push({ id, body: decode(raw, req.headers['content-type']).args, at: Date.now() });
      return reply(200, { ok: true });
    }
    if (path.startsWith('/upload/')) {
      // The bytes of a file, POSTed to the upload_url files.getUploadURLExternal gave out.
      const upload = uploads.get(path.slice('/upload/'.length));
      if (!upload) return reply(404, { ok: false, error: 'not_found' });
      upload.content = raw;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${Buffer.byteLength(raw)}`);
      return;
    }
    if (!path.startsWith('/api/')) return reply(404, { ok: false, error: 'not_found' });
    const at = Date.now();
    const { args, bodyToken } = decode(raw, req.headers['content-type']);
    const call: RecordedCall = { method: path.slice('/api/'.length), args, at };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    calls.push(call);
    tokens.set(call, bearer ?? bodyToken);
    const custom = (await responders.get(call.method)?.(call)) ?? {};
    if (custom.delayMs) await sleep(custom.delayMs);
    const body = 'body' in custom ? custom.body : builtin(call.method, args, tokens.get(call));
    reply(custom.status ?? 200, body, custom.headers);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500).end(err.message);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/socket')) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  });
  wss.on('connection', (ws: WebSocket) => {
    sockets.push(ws);
    ws.on('close', () => sockets.splice(sockets.indexOf(ws), 1));
    ws.on('message', (data) => {
      let msg: { envelope_id?: string; payload?: unknown } = {};
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return; // not an ack; Slack ignores garbage too
      }
      const id = msg.envelope_id ?? '';
      const pending = pendingAcks.get(id);
      pendingAcks.delete(id);
      pending?.resolve({
        envelopeId: id,
        payload: msg.payload ?? {},
        ms: performance.now() - pending.started,
      });
    });
    const hello = { type: 'hello', num_connections: sockets.length, connection_info: { app_id: ids.appId } };
    ws.send(
      JSON.stringify({ ...hello, debug_info: { host: 'slack-standin', approximate_connection_time: 3600 } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const waitFor = async <T>(predicate: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline) {
        throw new Error(
          `waitFor timed out after ${timeoutMs} ms; calls: ${calls.map((c) => c.method).join(', ') || 'none'}`,
        );
      }
      await sleep(10);
    }
  };

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    tokenOf: (call) => tokens.get(call),
    waitFor,
    setResponder: (method, fn) => void (fn ? responders.set(method, fn) : responders.delete(method)),
    groups,
    message: (channel, ts) => messages.get(`${channel}/${ts}`),
    responseUrl: (id) => `http://127.0.0.1:${port}/response/${encodeURIComponent(id)}`,
    responses,
    files,
    socket: {
      connections: () => sockets.length,
      waitForConnection: (timeoutMs) => waitFor(() => sockets.length > 0, timeoutMs).then(() => undefined),
      send(type, payload, timeoutMs = 5000) {
        const ws = sockets.at(-1);
        if (!ws) return Promise.reject(new Error('no Socket Mode connection'));
        const envelope_id = randomUUID();
        return new Promise<SocketAck>((resolve, reject) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            pendingAcks.delete(envelope_id);
            reject(new Error(`${type} envelope not acked within ${timeoutMs} ms`));
          }, timeoutMs);
          timers.add(timer);
          const done = (ack: SocketAck) => (clearTimeout(timer), timers.delete(timer), resolve(ack));
          pendingAcks.set(envelope_id, { resolve: done, started: performance.now() });
          const accepts_response_payload = type === 'slash_commands';
          ws.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload }));
        });
      },
      requestRefresh: () => {
        for (const ws of sockets)
          ws.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested' }));
      },
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const ws of [...sockets]) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Form or JSON into an object; JSON-string fields parsed; a body token moved out of args. */
function decode(raw: string, contentType = ''): { args: Record<string, unknown>; bodyToken?: string } {
  let args: Record<string, unknown>;
  if (contentType.includes('application/json'))
    args = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  else args = Object.fromEntries(new URLSearchParams(raw));
  for (const field of JSON_FIELDS) {
    const value = args[field];
    if (typeof value === 'string') {
      try {
        args[field] = JSON.parse(value);
      } catch {
        // Left as sent: the app's bug should show in the test, not vanish here.
      }
    }
  }
  const { token, ...rest } = args;
  return { args: rest, bodyToken: typeof token === 'string' ? token : undefined };
}

export interface SignOptions {
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Overrides the computed signature (forgery tests). */
  signature?: string;
  retryNum?: number;
  retryReason?: string;
}

/** Headers Slack sends with a request to the app's HTTP endpoint. */
export function signedRequest(
  signingSecret: string,
  body: string,
  opts: SignOptions = {},
): Record<string, string> {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const signature =
    opts.signature ?? `v0=${createHmac('sha256', signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const headers: Record<string, string> = {
    'content-type': body.trimStart().startsWith('{')
      ? 'application/json'
      : 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': signature,
  };
  if (opts.retryNum !== undefined) headers['x-slack-retry-num'] = String(opts.retryNum);
  if (opts.retryReason !== undefined) headers['x-slack-retry-reason'] = opts.retryReason;
  return headers;
}

export interface SlashCommandFields {
  command: string;
  text?: string;
  user_id?: string;
  channel_id?: string;
  trigger_id?: string;
  response_url?: string;
  team_id?: string;
}

/** A slash command's fields as Slack sends them (a Socket Mode `slash_commands` payload is this object). */
export function slashCommandPayload(f: SlashCommandFields): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: f.team_id ?? 'T0STANDIN',
    team_domain: 'standin',
    channel_id: f.channel_id ?? 'C0INCIDENT',
    channel_name: 'incident',
    user_id: f.user_id ?? 'U0ALICE',
    user_name: 'alice',
    command: f.command,
    text: f.text ?? '',
    api_app_id: 'A0RECOVER',
    is_enterprise_install: 'false',
    response_url: f.response_url ?? 'http://127.0.0.1:9/response/unused',
    trigger_id: f.trigger_id ?? `trigger-${randomUUID()}`,
  };
}

/** The same, form-encoded as Slack POSTs it to the HTTP receiver. */
export function slashCommandBody(f: SlashCommandFields): string {
  return new URLSearchParams(slashCommandPayload(f)).toString();
}

/** An interaction as Slack sends it over HTTP: `payload=<url-encoded JSON>`. */
export function blockActionBody(payload: unknown): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** POSTs to the app's receiver on a fresh connection (no keep-alive socket left behind). */
export function postToApp(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { ...headers, connection: 'close' } },
      (res) => {
        readBody(res).then(
          (text) => resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - started }),
          reject,
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
