/**
 * bench:slack — the Slack path in an incident. A 35-step master-from-slave run (seed 000 on a
 * crashed master, 5 approval gates) in the real bot, against the Slack stand-in at the wire at
 * Slack's pace (one message a second per channel), while 5 other channels keep asking for status
 * and the incident channel asks now and then. Measured:
 *   - approval prompt: from the engine waiting for approval (its audit event) to the Approve
 *     buttons arriving at the stand-in, per gate;
 *   - the incident channel's status requests: from the signed request to the answer's arrival;
 *   - run wall (start → finish, from the audit) against the same run in the chat shell, taken in
 *     the same process just before (the baseline: no Slack, the same engine and approvals).
 * Targets: prompt p99 ≤ 1.5 s; wall ratio ≤ 1.1; incident answers within 1 s.
 */
import { PassThrough, Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { runChatShell } from '../src/app/chat-shell';
import { serviceUrls } from '../src/config/env';
import { RecoverConfig } from '../src/config/topology';
import { AuditLog } from '../src/engine/audit';
import { redisOptionsFromUrl } from '../src/engine/redis-options';
import { SLACK_QUEUE } from '../src/slack/jobs';
import { RunLedger } from '../src/engine/ledger';
import { TERMINAL_RUN_STATES, type AuditEvent } from '../src/engine/types';
import { dropPrefix } from '../test/helpers/engine';
import { startHttpBot } from '../test/helpers/http-bot';
import { buttonsIn, clickPayload } from '../test/helpers/slack-clicks';
import {
  blockActionBody,
  postToApp,
  signedRequest,
  slashCommandBody,
  startSlackStandin,
} from '../test/helpers/slack-standin';
import { crashedFleet, quietFleet } from './slack-fleet';

const SECRET = 'bench-slack-signing-secret';
const INCIDENT = 'C0INCIDENT';
const BUSY_CHANNELS = ['C0OTHER1', 'C0OTHER2', 'C0OTHER3', 'C0OTHER4', 'C0OTHER5'];
const BUSY_EVERY_MS = 1000;
const INCIDENT_EVERY_MS = 2000;
const SLACK_PACE_MS = 1100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x);
const pct = (xs: number[], p: number) =>
  xs.length
    ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!
    : NaN;
const stats = (xs: number[]) => ({
  n: xs.length,
  medianMs: round(pct(xs, 50)),
  p99Ms: round(pct(xs, 99)),
  maxMs: round(Math.max(...xs)),
});

interface Watch {
  ledger: RunLedger;
  audit: AuditLog;
  close(): void;
}
function watch(prefix: string): Watch {
  const redis = new Redis(serviceUrls().redisUrl);
  return {
    ledger: new RunLedger(redis, { prefix }),
    audit: new AuditLog(redis, { prefix }),
    close: () => redis.disconnect(),
  };
}

async function firstRun(w: Watch, topology: string): Promise<string> {
  for (;;) {
    const [run] = await w.ledger.listRuns(topology, 1);
    if (run) return run.id;
    await sleep(20);
  }
}

/** Start → finish from the audit; the run must have finished with every step done. */
async function wallOf(
  w: Watch,
  runId: string,
): Promise<{ wallMs: number; steps: number; events: AuditEvent[] }> {
  const run = await w.ledger.getRun(runId);
  if (run?.state !== 'done') throw new Error(`run ${runId} ended ${run?.state}: ${run?.reason ?? ''}`);
  const events = await w.audit.read(runId);
  const start = events.find((e) => e.kind === 'start')!;
  const finish = events.findLast((e) => e.kind === 'finish')!;
  const steps = (await w.ledger.getSteps(runId)).length;
  return { wallMs: Date.parse(finish.at) - Date.parse(start.at), steps, events };
}

/** The baseline: the same run in the chat shell, bob typing Approve as soon as a gate waits. */
async function shellRun(n: number): Promise<{ wallMs: number; steps: number }> {
  const name = `bsh${n}`;
  const fleet = await crashedFleet(name, ['bob']);
  const prefix = `bench-slack-shell-${process.pid}-${n}`;
  const w = watch(prefix);
  const input = new PassThrough();
  const output = new Writable({ write: (_c, _e, cb) => cb() });
  try {
    const shell = runChatShell({
      config: RecoverConfig.parse({ topologies: [fleet.topology] }),
      redisUrl: serviceUrls().redisUrl,
      prefix,
      env: { ...process.env, ...fleet.env },
      user: 'alice',
      input,
      output,
      // A person at a terminal: each line is handled as it comes (a script would wait for quiet).
      interactive: true,
      worker: true,
    });
    input.write(`/recover run ${name} master-from-slave\n/as bob\n`);
    const runId = await firstRun(w, name);
    // bob types Approve once its button is on screen (typed before, it finds none: typed again).
    let typedAt = 0;
    for (;;) {
      const run = await w.ledger.getRun(runId);
      if (run && TERMINAL_RUN_STATES.includes(run.state)) break;
      const audit = await w.audit.read(runId);
      const waits = audit.filter((e) => e.kind === 'awaiting-approval').length;
      const approved = audit.filter((e) => e.kind === 'approval').length;
      if (run?.state === 'awaiting-approval' && approved < waits && Date.now() - typedAt > 250) {
        input.write('/click Approve\n');
        typedAt = Date.now();
      }
      await sleep(20);
    }
    input.end();
    await shell;
    const { wallMs, steps } = await wallOf(w, runId);
    return { wallMs, steps };
  } finally {
    w.close();
    await dropPrefix(prefix);
    await fleet.destroy();
  }
}

async function slackRun(n: number) {
  const name = `bsl${n}`;
  const fleet = await crashedFleet(name, ['U0BOB']);
  const quiet = await quietFleet('bqt');
  const prefix = `bench-slack-bot-${process.pid}-${n}`;
  const w = watch(prefix);
  const standin = await startSlackStandin();
  const { bot, appUrl } = await startHttpBot({
    config: RecoverConfig.parse({ topologies: [fleet.topology, quiet.topology] }),
    slackApiUrl: standin.url,
    prefix,
    env: { ...fleet.env, ...quiet.env },
    signingSecret: SECRET,
    botToken: 'xoxb-bench-slack',
    minPostIntervalMs: SLACK_PACE_MS,
  });
  let seq = 0;
  const slash = (channel: string, user: string, text: string) => {
    const body = slashCommandBody({
      command: '/recover',
      text,
      user_id: user,
      channel_id: channel,
      trigger_id: `t-${++seq}`,
    });
    return postToApp(appUrl, body, signedRequest(SECRET, body));
  };
  let running = true;
  const busySent: Record<string, number> = {};
  try {
    // 5 other channels ask about their own fleet, once a second each, all through the run.
    const busy = BUSY_CHANNELS.map(async (channel, i) => {
      await sleep(i * 150);
      while (running) {
        busySent[channel] = (busySent[channel] ?? 0) + 1;
        await slash(channel, `U0OTHER${i}`, 'status bqt');
        await sleep(BUSY_EVERY_MS);
      }
    });
    await sleep(3000); // let the busy channels build their backlog first
    const started = Date.now();
    await slash(INCIDENT, 'U0ALICE', `run ${name} master-from-slave`);
    const runId = await firstRun(w, name);

    // The incident channel asks for status every 2 s, of its own fleet (mid-recovery) and of the
    // quiet one in turn; each answer is timed, and whether a probe timed out in it is noted.
    const incidentMs: {
      fleet: 'recovering' | 'quiet';
      asked: number;
      ackMs: number;
      answeredAt: number;
      ms: number;
      probeTimedOut: boolean;
    }[] = [];
    const incident = (async () => {
      for (let i = 0; running; i++) {
        const asked = Date.now();
        const fleetAsked = i % 2 === 0 ? 'quiet' : 'recovering';
        const ack = await slash(INCIDENT, 'U0CAROL', `status ${fleetAsked === 'quiet' ? 'bqt' : name}`);
        const answer = await standin
          .waitFor(
            () =>
              standin.calls.find(
                (c) =>
                  c.method === 'chat.postMessage' &&
                  c.args.channel === INCIDENT &&
                  !c.args.thread_ts &&
                  c.at >= asked &&
                  JSON.stringify(c.args.blocks).includes(`Status: ${fleetAsked === 'quiet' ? 'bqt' : name}`),
              ),
            20_000,
          )
          .catch(() => undefined);
        if (process.argv.includes('--trace'))
          console.error(`asked ${asked - started} ${fleetAsked} answered ${(answer?.at ?? 0) - started}`);
        incidentMs.push({
          fleet: fleetAsked,
          asked,
          ackMs: ack.ms,
          answeredAt: answer?.at ?? asked + 20_000,
          ms: answer ? answer.at - asked : 20_000,
          probeTimedOut: JSON.stringify(answer?.args.blocks ?? '').includes('timed out'),
        });
        await sleep(INCIDENT_EVERY_MS);
      }
    })();

    // bob approves each gate as soon as its buttons arrive, wherever they come first. The calls are scanned once each (the
    // harness shares the bot's process: rescanning every post every few ms would slow the bot).
    const clicked = new Set<string>();
    const buttonAt = new Map<string, number>();
    let scanned = 0;
    for (;;) {
      const run = await w.ledger.getRun(runId);
      if (run && TERMINAL_RUN_STATES.includes(run.state)) break;
      let button: ReturnType<typeof buttonsIn>[number] | undefined;
      let arrivedAt = 0;
      for (; scanned < standin.calls.length && !button; scanned++) {
        const call = standin.calls[scanned]!;
        const update = call.method === 'chat.update';
        if ((call.method !== 'chat.postMessage' && !update) || call.args.channel !== INCIDENT) continue;
        // The buttons come on the run's message (chat.update) or in the thread's request (a post).
        button = buttonsIn(call, update ? String(call.args.ts) : `${call.at}.${scanned}`).find(
          (b) => b.actionId === 'recover_approve' && !clicked.has(b.value),
        );
        arrivedAt = call.at;
      }
      if (!button) {
        await sleep(5);
        continue;
      }
      clicked.add(button.value);
      const gate = (JSON.parse(button.value) as { gate: string }).gate;
      buttonAt.set(gate, arrivedAt);
      const body = blockActionBody(clickPayload(button, 'U0BOB', standin.responseUrl(`click-${gate}`)));
      await postToApp(appUrl, body, signedRequest(SECRET, body));
    }
    running = false;
    await Promise.all([...busy, incident]);
    const { wallMs, steps, events } = await wallOf(w, runId);
    const promptMs = events
      .filter((e) => e.kind === 'awaiting-approval')
      .map((e) => (buttonAt.get(String(e.detail.gate)) ?? NaN) - Date.parse(e.at));
    const ended = Date.now();
    if (process.argv.includes('--trace'))
      for (const c of standin.calls.filter(
        (x) => x.args.channel === INCIDENT && x.method === 'chat.postMessage',
      ))
        console.error(
          `${c.at - started} ${c.args.thread_ts ? 'thread' : 'top'} ${String(c.args.text).slice(0, 60).replace(/\n/g, '|')}`,
        );
    // Where an incident answer's time went: waiting in the queue, the work (probes), the post.
    const slackQueue = new Queue(SLACK_QUEUE, {
      connection: redisOptionsFromUrl(serviceUrls().redisUrl),
      prefix,
    });
    const incidentJobs = (await slackQueue.getJobs(['completed'])).filter(
      (j) => j.data.channel === INCIDENT && j.name === 'status',
    );
    await slackQueue.close();
    // Each job to the request it came from (the last asked before it was added).
    const breakdown = incidentJobs.map((j) => {
      const request = [...incidentMs].reverse().find((r) => r.asked <= j.timestamp);
      return {
        fleet: request?.fleet,
        ackMs: request?.ackMs ?? NaN,
        enqueuedAfterMs: request ? j.timestamp - request.asked : NaN,
        queuedMs: (j.processedOn ?? 0) - j.timestamp,
        workMs: (j.finishedOn ?? 0) - (j.processedOn ?? 0),
        postedAfterWorkMs: request ? request.answeredAt - (j.finishedOn ?? 0) : NaN,
      };
    });
    await bot.notifier.drain();
    const inIncident = (method: string) => standin.callsTo(method).filter((c) => c.args.channel === INCIDENT);
    return {
      wallMs,
      steps,
      gates: promptMs.length,
      promptMs,
      incidentMs,
      incidentJobs: breakdown,
      busyRequests: Object.values(busySent).reduce((a, b) => a + b, 0),
      busyAnswers: standin
        .callsTo('chat.postMessage')
        .filter((c) => BUSY_CHANNELS.includes(String(c.args.channel))).length,
      incidentChannel: {
        posts: inIncident('chat.postMessage').length,
        updates: inIncident('chat.update').length,
        threadCaughtUpMsAfterRun: Math.max(0, ...inIncident('chat.postMessage').map((c) => c.at - ended)),
      },
    };
  } finally {
    running = false;
    await bot.stop();
    await standin.close();
    w.close();
    await dropPrefix(prefix);
    await fleet.destroy();
    await quiet.destroy();
  }
}

function runsArg(): number {
  const i = process.argv.indexOf('--runs');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 3;
  return Number.isInteger(n) && n > 0 ? n : 3;
}

async function main() {
  const shells: { wallMs: number }[] = [];
  const slacks: Awaited<ReturnType<typeof slackRun>>[] = [];
  for (let n = 1; n <= runsArg(); n++) {
    shells.push(await shellRun(n));
    slacks.push(await slackRun(n));
  }
  const median = (xs: number[]) => pct(xs, 50);
  const prompt = stats(slacks.flatMap((s) => s.promptMs));
  const answers = slacks.flatMap((s) => s.incidentMs);
  const quiet = stats(answers.filter((a) => a.fleet === 'quiet').map((a) => a.ms));
  const recovering = answers.filter((a) => a.fleet === 'recovering');
  const wall = { slack: slacks.map((s) => s.wallMs), shellBaseline: shells.map((s) => s.wallMs) };
  const wallRatio = Math.round((median(wall.slack) / median(wall.shellBaseline)) * 100) / 100;
  console.log(
    JSON.stringify(
      {
        benchmark: 'slack',
        node: process.version,
        runbook: 'master-from-slave',
        runs: slacks.length,
        steps: slacks[0]!.steps,
        gatesPerRun: slacks[0]!.gates,
        slackPaceMs: SLACK_PACE_MS,
        busyChannels: BUSY_CHANNELS.length,
        busyRequests: slacks.map((s) => s.busyRequests),
        busyAnswersPostedDuringRun: slacks.map((s) => s.busyAnswers),
        approvalPrompt: { ...prompt, samplesMs: slacks.flatMap((s) => s.promptMs).map(round) },
        incidentStatusAnswer: {
          quietFleet: quiet,
          recoveringFleet: {
            ...stats(recovering.map((a) => a.ms)),
            withAProbeTimeout: recovering.filter((a) => a.probeTimedOut).length,
            withoutAProbeTimeout: stats(recovering.filter((a) => !a.probeTimedOut).map((a) => a.ms)),
          },
        },
        incidentAnswerBreakdown: Object.fromEntries(
          (['ackMs', 'enqueuedAfterMs', 'queuedMs', 'workMs', 'postedAfterWorkMs'] as const).map((k) => [
            k,
            stats(slacks.flatMap((s) => s.incidentJobs.map((j) => j[k])).filter((x) => Number.isFinite(x))),
          ]),
        ),
        incidentChannel: slacks.map((s) => s.incidentChannel),
        runWallMs: wall,
        wallRatio,
        targets: { approvalPromptP99Ms: 1500, wallRatio: 1.1, incidentAnswerMs: 1000 },
        pass: {
          approvalPrompt: prompt.p99Ms <= 1500,
          wallRatio: wallRatio <= 1.1,
          incidentAnswer: Math.max(quiet.maxMs, ...recovering.map((a) => a.ms)) <= 1000,
        },
      },
      null,
      2,
    ),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
