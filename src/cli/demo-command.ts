import type { Command } from 'commander';
import { resolve } from 'node:path';
import { runChatShell } from '../app/chat-shell';
import { demoRedisUrl, workerTimings } from '../config/env';
import { startDemo } from '../demo/demo';
import type { CliContext } from './context';
import { viewOption } from './shell-command';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('a whole master recovery on an embedded fleet, in the local chat shell (npm run demo)')
    .option('--as <user>', 'who you are to begin with', 'alice')
    .option('--dir <path>', 'the project directory; the demo keeps its files in its .demo/', '.')
    .option('--compact', '80 columns, one line per step, details on request (default at a terminal)')
    .option('--full', 'every line of every message (default for a script on stdin)')
    .action(async function demoAction(opts: { as: string; dir: string; compact?: boolean; full?: boolean }) {
      const started = Date.now();
      const say = (line: string) => ctx.stderr.write(`demo: ${line}\n`);
      const demo = await startDemo({
        root: resolve(opts.dir),
        env: ctx.env,
        redisUrl: demoRedisUrl(ctx.env),
        say,
      });
      const abort = new AbortController();
      void ctx.untilSignal().then(() => abort.abort());
      try {
        say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; topology file: ${demo.configFile}`);
        ctx.stdout.write(DEMO_INTRO);
        await runChatShell({
          config: demo.config,
          redisUrl: demo.redisUrl,
          prefix: demo.prefix,
          env: demo.env,
          user: opts.as,
          input: ctx.stdin,
          output: ctx.stdout,
          interactive: ctx.stdin.isTTY === true,
          compact: viewOption(opts),
          worker: true,
          workerTimings: workerTimings(ctx.env),
          signal: abort.signal,
        });
      } finally {
        say('stopping the fleet, Redis and PostgreSQL…');
        await demo.stop();
        say('stopped; nothing is left running');
      }
    });
}

const DEMO_INTRO = `
The master "mls" of the CoreMedia fleet "demo" has crashed. You are alice, on
call; bob is your second responder. Try, in order:
  /recover status                       what each node holds, whom to restore from
  /recover plan demo master-from-slave  the vendor's procedure made concrete
  then type the number of [Start], answer yes, and approve as bob (/as bob).
/details mN shows all of a message, /full every line, /help everything; /quit
leaves (and stops the demo's servers).

`;
