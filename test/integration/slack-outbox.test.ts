/**
 * The outbox against the Slack stand-in, through the real WebClient: spacing per channel, no
 * serialization across channels, coalesced progress updates, Retry-After honoured, errors isolated.
 */
import { LogLevel, WebClient } from '@slack/web-api';
import type { SlackMessage } from '../../src/slack/blocks/types';
import { createSlackWebClient, SlackOutbox, SlackOutboxError } from '../../src/slack/outbox';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { startSlackStandin, type RecordedCall, type SlackStandin } from '../helpers/slack-standin';

const TOKEN = 'xoxb-outbox-secret-token';
const INTERVAL = 200;
let standin: SlackStandin;
let outbox: SlackOutbox | undefined;

const msg = (text: string): SlackMessage => ({
  text,
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
});
const texts = (calls: RecordedCall[]) => calls.map((c) => c.args.text);
const gaps = (calls: RecordedCall[]) => calls.slice(1).map((c, i) => c.at - calls[i]!.at);

/** As the composition root builds it: the caller's WebClient, no retries of its own. */
function plainClient(): WebClient {
  return new WebClient(TOKEN, {
    slackApiUrl: standin.url,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });
}
function newOutbox(client: WebClient = plainClient()): SlackOutbox {
  outbox = new SlackOutbox(client, { minIntervalMs: INTERVAL });
  return outbox;
}

beforeEach(async () => {
  standin = await startSlackStandin();
});
afterEach(async () => {
  outbox?.close();
  outbox = undefined;
  await standin.close();
});
afterAll(() => expectNoLeakedHandles());

it('sends posts to one channel in order, spaced by at least minIntervalMs', async () => {
  const box = newOutbox();
  const results = await Promise.all([0, 1, 2, 3, 4].map((i) => box.post('C1', msg(`m${i}`))));
  const calls = standin.callsTo('chat.postMessage');
  expect(texts(calls)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  for (const gap of gaps(calls)) expect(gap).toBeGreaterThanOrEqual(INTERVAL);
  expect(new Set(results.map((r) => r.ts)).size).toBe(5);
  expect(calls[0]?.args.blocks).toEqual(msg('m0').blocks);
});

it('does not serialize channels behind each other', async () => {
  const box = newOutbox();
  // Channel a's first post gets no answer until channel b's three are through: one lane for
  // both channels would never get there.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  standin.setResponder('chat.postMessage', async (call) => {
    if (call.args.channel === 'C-a') await held;
    return undefined;
  });
  const a = ['a0', 'a1', 'a2'].map((t) => box.post('C-a', msg(t)));
  const b = await Promise.all(['b0', 'b1', 'b2'].map((t) => box.post('C-b', msg(t))));
  const inChannel = (channel: string) =>
    texts(standin.callsTo('chat.postMessage').filter((c) => c.args.channel === channel));
  expect(b.map((r) => r.ts)).toHaveLength(3);
  expect(inChannel('C-b')).toEqual(['b0', 'b1', 'b2']);
  expect(inChannel('C-a')).toEqual(['a0']); // still waiting for its answer
  release();
  await Promise.all(a);
  expect(inChannel('C-a')).toEqual(['a0', 'a1', 'a2']);
});

it('collapses progress updates queued behind a slow post into the latest', async () => {
  const box = newOutbox();
  const { ts } = await box.post('C1', msg('run started'));
  standin.setResponder('chat.postMessage', () => ({ delayMs: 600 }));
  const slow = box.post('C1', msg('step 1 result'), ts);
  const updates = Array.from({ length: 10 }, (_, i) => box.update('C1', ts, msg(`progress ${i}`)));
  await Promise.all([slow, ...updates]);
  await box.drain();

  const calls = standin.callsTo('chat.update');
  expect(calls.length).toBeGreaterThanOrEqual(1);
  expect(calls.length).toBeLessThanOrEqual(2);
  expect(calls.at(-1)?.args.text).toBe('progress 9');
  expect(standin.message('C1', ts)?.text).toBe('progress 9');
  expect(texts(standin.callsTo('chat.postMessage'))).toEqual(['run started', 'step 1 result']);
});

it.each([
  ['a plain WebClient (it sleeps through Retry-After itself)', () => plainClient()],
  ['createSlackWebClient (rate limits surface at once)', () => createSlackWebClient(TOKEN, standin.url)],
])('retries a 429 after Retry-After with %s, in order, losing nothing', async (_name, client) => {
  let limited = false;
  standin.setResponder('chat.postMessage', () => {
    if (limited) return undefined;
    limited = true;
    return { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } };
  });
  const box = newOutbox(client());
  const results = await Promise.all(['m0', 'm1', 'm2'].map((t) => box.post('C1', msg(t))));
  const calls = standin.callsTo('chat.postMessage');
  expect(texts(calls)).toEqual(['m0', 'm0', 'm1', 'm2']);
  expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
  expect(results.every((r) => r.ts.length > 0)).toBe(true);
});

it('retries an ok:false ratelimited answer too', async () => {
  let limited = false;
  standin.setResponder('chat.update', () => {
    if (limited) return undefined;
    limited = true;
    return { headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } };
  });
  const box = newOutbox();
  const { ts } = await box.post('C1', msg('status'));
  await box.update('C1', ts, msg('status, refreshed'));
  const calls = standin.callsTo('chat.update');
  expect(calls).toHaveLength(2);
  expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
});

it('rejects a call Slack refuses with its error code, and carries on with the rest', async () => {
  standin.setResponder('chat.postMessage', (call) =>
    call.args.channel === 'C-GONE' ? { body: { ok: false, error: 'channel_not_found' } } : undefined,
  );
  const box = newOutbox();
  const gone = box.post('C-GONE', msg('lost'));
  const after = box.post('C-GONE', msg('second'));
  const elsewhere = box.post('C1', msg('fine'));
  const err = await gone.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SlackOutboxError);
  expect(err).toMatchObject({ slackError: 'channel_not_found', method: 'chat.postMessage' });
  expect(String(err)).toContain('channel_not_found');
  expect(String(err)).not.toContain(TOKEN);
  await expect(after).rejects.toThrow('channel_not_found');
  await expect(elsewhere).resolves.toMatchObject({ ts: expect.any(String) });
  const sent = texts(standin.callsTo('chat.postMessage'));
  expect(sent.sort()).toEqual(['fine', 'lost', 'second']);
});

it('sends ephemerals, drains, and rejects what is still queued on close', async () => {
  const box = newOutbox();
  await box.ephemeral('C1', 'U0ALICE', msg('only you'));
  expect(standin.callsTo('chat.postEphemeral')[0]?.args).toMatchObject({ user: 'U0ALICE', text: 'only you' });

  const first = box.post('C1', msg('one'));
  const queued = box.post('C1', msg('two'));
  await first;
  box.close();
  await expect(queued).rejects.toMatchObject({ slackError: 'outbox_closed' });
  await expect(box.drain()).resolves.toBeUndefined();
  await expect(box.post('C1', msg('three'))).rejects.toThrow('outbox_closed');
});

it('never sends an update that shows what Slack already shows', async () => {
  const box = newOutbox();
  const { ts } = await box.post('C1', msg('step 1 of 3'));
  await box.update('C1', ts, msg('step 1 of 3')); // same as posted
  await box.update('C1', ts, msg('step 2 of 3'));
  await box.update('C1', ts, msg('step 2 of 3')); // same as the last update
  await Promise.all([box.update('C1', ts, msg('step 3 of 3')), box.update('C1', ts, msg('step 2 of 3'))]);
  await box.drain();
  // The last two were queued together: they collapsed into "step 2 of 3", which Slack already showed.
  expect(texts(standin.callsTo('chat.update'))).toEqual(['step 2 of 3']);
  expect(standin.message('C1', ts)?.text).toBe('step 2 of 3');
});

it('posts prompts, then answers, ahead of the progress queued in their channel', async () => {
  const box = newOutbox();
  const { ts } = await box.post('C1', msg('run started'));
  const progress = ['result 1', 'result 2', 'result 3'].map((t) => box.post('C1', msg(t), ts));
  const update = box.update('C1', ts, msg('progress 3/5'));
  const approval = box.post('C1', msg('approval needed'), ts, { urgency: 'prompt' });
  const answer = box.post('C1', msg('status table'), undefined, { urgency: 'answer' });
  const halt = box.post('C1', msg('halted'), ts, { urgency: 'prompt' });
  await Promise.all([...progress, update, approval, answer, halt]);
  // The lane was still spacing after "run started": prompts go first, then the answer, each in order.
  expect(texts(standin.callsTo('chat.postMessage'))).toEqual([
    'run started',
    'approval needed',
    'halted',
    'status table',
    'result 1',
    'result 2',
    'result 3',
  ]);
});

it("merges a thread's progress replies queued behind each other into one post, within 50 blocks", async () => {
  const box = newOutbox();
  const { ts } = await box.post('C1', msg('run started'));
  const reply = (i: number) => box.post('C1', msg(`step ${i} done`), ts, { mergeable: true });
  const sent = [reply(1), box.update('C1', ts, msg('2/60')), reply(2), reply(3)];
  const other = box.post('C1', msg('elsewhere'), 'other-thread', { mergeable: true });
  const many = Array.from({ length: 55 }, (_, i) => reply(10 + i));
  await Promise.all([...sent, other, ...many]);
  const posts = standin.callsTo('chat.postMessage').slice(1);
  // Replies 1–3 together (the update between them does not split them); another thread is its own.
  expect(posts[0]?.args.text).toBe('step 1 done\nstep 2 done\nstep 3 done');
  expect(posts[0]?.args.thread_ts).toBe(ts);
  expect(posts[1]?.args).toMatchObject({ text: 'elsewhere', thread_ts: 'other-thread' });
  // 55 one-block replies: 50 in one message, 5 in the next.
  expect(posts.slice(2).map((c) => (c.args.blocks as unknown[]).length)).toEqual([50, 5]);
  const tss = await Promise.all(many);
  expect(new Set(tss.map((r) => r.ts)).size).toBe(2);
});

it('sends a prompt at once while progress keeps its channel busy, and the channel stays within its pace', async () => {
  const box = newOutbox();
  const progress = Array.from({ length: 8 }, (_, i) => box.post('C1', msg(`result ${i}`)));
  await new Promise((r) => setTimeout(r, 500));
  const asked = Date.now();
  await box.post('C1', msg('approval needed'), undefined, { urgency: 'prompt' });
  const prompt = standin.callsTo('chat.postMessage').find((c) => c.args.text === 'approval needed')!;
  expect(prompt.at - asked).toBeLessThan(100);
  await Promise.all(progress);
  // Over any stretch, at most one call per interval plus the two kept for people.
  const at = standin.callsTo('chat.postMessage').map((c) => c.at);
  for (let i = 0; i < at.length; i++) {
    const inWindow = at.filter((t) => t >= at[i]! && t < at[i]! + 5 * INTERVAL).length;
    expect(inWindow).toBeLessThanOrEqual(5 + 2);
  }
  expect(at).toHaveLength(9);
});
