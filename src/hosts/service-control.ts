import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceConfig } from '../config/topology';
import { shellCommand } from './quote';
import type { CommandResult, HostExecutor } from './types';

export type ServiceState = 'running' | 'stopped';

export type ServiceErrorCode = 'SERVICE_TIMEOUT' | 'SERVICE_COMMAND' | 'SERVICE_STATUS';

/** A step result for stop/start: stdoutTail is the transcript of every command and what it said. */
export interface ServiceResult extends CommandResult {
  state: ServiceState | 'unknown';
}

export class ServiceControlError extends Error {
  constructor(
    readonly code: ServiceErrorCode,
    readonly node: string,
    message: string,
    /** What was run until it failed, for the step's message. */
    readonly result: ServiceResult,
  ) {
    super(message);
    this.name = 'ServiceControlError';
  }
}

export interface ServiceControlOptions {
  /** Pause between status checks while waiting. */
  pollMs?: number;
}

/** One status check may take this long at most, and gets at least STATUS_MIN_MS even near the deadline. */
const STATUS_LIMIT_MS = 30_000;
const STATUS_MIN_MS = 5_000;
/** LSB: 1–3 mean "not running"; 4 and anything else (127: no such command) say nothing. */
const STOPPED_CODES = new Set([1, 2, 3]);

interface StatusCheck {
  state: ServiceState | 'unknown';
  result: CommandResult;
}

async function checkStatus(
  exec: HostExecutor,
  service: ServiceConfig,
  timeoutMs: number,
): Promise<StatusCheck> {
  const result = await exec.run(service.status, {
    timeoutMs: Math.min(Math.max(timeoutMs, STATUS_MIN_MS), STATUS_LIMIT_MS),
  });
  const { exitCode } = result;
  let state: StatusCheck['state'] = 'unknown';
  if (result.timedOut || exitCode === null) state = 'unknown';
  else if (service.runningPattern && new RegExp(service.runningPattern, 'm').test(result.stdoutTail))
    state = 'running';
  else if (!service.runningPattern && exitCode === 0) state = 'running';
  else if (exitCode === 0 || STOPPED_CODES.has(exitCode)) state = 'stopped';
  return { state, result };
}

/**
 * running: status exits 0, or prints a line matching runningPattern when one is configured.
 * stopped: otherwise, when the exit code says so (0–3). A status that cannot tell throws: a missing
 * status script must never read as "stopped" before the database underneath is replaced.
 */
export async function serviceStatus(exec: HostExecutor, service: ServiceConfig): Promise<ServiceState> {
  const { state, result } = await checkStatus(exec, service, service.timeoutMs);
  if (state !== 'unknown') return state;
  const log = new Transcript();
  log.status(service, { state, result });
  throw new ServiceControlError(
    'SERVICE_STATUS',
    exec.node,
    `${exec.node}: cannot tell whether the service runs (${describe(result)})`,
    log.result(state, result, result.durationMs, 'failed'),
  );
}

/** Stop, then poll status until it says stopped or service.timeoutMs has passed. */
export function stopService(
  exec: HostExecutor,
  service: ServiceConfig,
  options: ServiceControlOptions = {},
): Promise<ServiceResult> {
  return drive(exec, service, 'stopped', options);
}

/** Start, then poll status until it says running or service.timeoutMs has passed. */
export function startService(
  exec: HostExecutor,
  service: ServiceConfig,
  options: ServiceControlOptions = {},
): Promise<ServiceResult> {
  return drive(exec, service, 'running', options);
}

async function drive(
  exec: HostExecutor,
  service: ServiceConfig,
  target: ServiceState,
  options: ServiceControlOptions,
): Promise<ServiceResult> {
  const pollMs = options.pollMs ?? 1000;
  const started = performance.now();
  const deadline = started + service.timeoutMs;
  const remaining = () => deadline - performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const log = new Transcript();
  const verb = target === 'stopped' ? 'stop' : 'start';
  const waitingFor = target === 'stopped' ? 'still running' : 'still not running';
  const fail = (code: ServiceErrorCode, message: string, last: CommandResult, state: StatusCheck['state']) =>
    new ServiceControlError(
      code,
      exec.node,
      message,
      log.result(state, last, elapsed(), code === 'SERVICE_TIMEOUT' ? 'timeout' : 'failed'),
    );

  // Idempotent: a retried step (after a crash) finds the work done and does not run it again.
  let check = await checkStatus(exec, service, remaining());
  log.status(service, check);
  if (check.state === target) {
    log.note(`${exec.node} was already ${target}: ${verb} not run`);
    return log.result(target, check.result, elapsed(), 'ok');
  }
  if (isMissing(check.result))
    throw fail(
      'SERVICE_STATUS',
      `${exec.node}: the status command cannot run (${describe(check.result)})`,
      check.result,
      'unknown',
    );

  const command = await exec.run(service[verb], { timeoutMs: Math.max(1, remaining()) });
  log.command(service[verb], command);
  // At least one status after the command, and a last one at the deadline: the verdict is fresh.
  for (;;) {
    check = await checkStatus(exec, service, remaining());
    log.status(service, check);
    if (check.state === target) {
      log.note(`${exec.node} ${target} after ${seconds(elapsed())} s`);
      return log.result(target, command, elapsed(), 'ok');
    }
    if (isMissing(check.result))
      throw fail(
        'SERVICE_STATUS',
        `${exec.node}: the status command cannot run (${describe(check.result)})`,
        command,
        'unknown',
      );
    if (command.exitCode !== 0 && !command.timedOut)
      throw fail(
        'SERVICE_COMMAND',
        `${exec.node}: ${verb} failed (${describe(command)}) and the service is ${waitingFor}`,
        command,
        check.state,
      );
    if (remaining() <= 0) break;
    await sleep(Math.min(pollMs, remaining()));
  }
  const how = check.state === 'unknown' ? `not confirmed ${target}` : waitingFor;
  const message = `${exec.node} ${how} after ${seconds(service.timeoutMs)} s (${verb}: ${describe(command)}; last status: ${describe(check.result)})`;
  log.note(message);
  throw fail('SERVICE_TIMEOUT', message, command, check.state);
}

/** Exit 126/127: the configured command is not there or not executable; waiting will not fix it. */
function isMissing(result: CommandResult): boolean {
  return result.exitCode === 126 || result.exitCode === 127;
}

function describe(result: CommandResult): string {
  if (result.timedOut) return `timed out after ${seconds(result.durationMs)} s`;
  const outcome = result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`;
  const said = lastLine(result.stdoutTail) || lastLine(result.stderrTail);
  return said ? `${outcome}, "${said}"` : outcome;
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').pop()?.trim().slice(0, 200) ?? '';
}

function seconds(ms: number): number {
  return ms >= 10_000 ? Math.round(ms / 1000) : Number((ms / 1000).toFixed(1));
}

/** Commands as an operator would have typed them; repeated identical status answers fold into one line. */
class Transcript {
  private readonly lines: string[] = [];
  private lastStatus = '';
  private repeats = 0;

  status(service: ServiceConfig, check: StatusCheck): void {
    const line = `$ ${shellCommand(service.status)} → ${check.state} (${describe(check.result)})`;
    if (line === this.lastStatus) {
      this.repeats++;
      this.lines[this.lines.length - 1] = `${line} ×${this.repeats + 1}`;
      return;
    }
    [this.lastStatus, this.repeats] = [line, 0];
    this.lines.push(line);
  }

  command(argv: readonly string[], result: CommandResult): void {
    this.lastStatus = '';
    this.lines.push(`$ ${shellCommand(argv)} → ${describe(result)} in ${result.durationMs} ms`);
  }

  note(text: string): void {
    this.lastStatus = '';
    this.lines.push(text);
  }

  /** ok: exit 0 whatever the command said, since status is the judge; timeout: no exit code. */
  result(
    state: StatusCheck['state'],
    last: CommandResult,
    durationMs: number,
    outcome: 'ok' | 'failed' | 'timeout',
  ): ServiceResult {
    const timedOut = outcome === 'timeout';
    return {
      exitCode: outcome === 'ok' ? 0 : timedOut ? null : last.exitCode,
      signal: outcome === 'ok' ? null : last.signal,
      stdoutTail: this.lines.join('\n'),
      stderrTail: last.stderrTail,
      durationMs,
      timedOut,
      state,
    };
  }
}
