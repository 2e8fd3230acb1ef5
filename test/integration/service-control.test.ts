import { join } from 'node:path';
import { LocalExecutor } from '../../src/hosts/local-executor';
import {
  ServiceControlError,
  serviceStatus,
  startService,
  stopService,
} from '../../src/hosts/service-control';
import { SshExecutor } from '../../src/hosts/ssh-executor';
import type { HostExecutor } from '../../src/hosts/types';
import { expectNoLeakedHandles } from '../helpers/leak-guard';
import { liveServer, type LiveServer } from '../helpers/live-server';
import { startSshd, type TestSshd } from '../helpers/sshd';

let sshd: TestSshd;
const executors: Record<string, HostExecutor> = {};

beforeAll(async () => {
  sshd = await startSshd();
  executors.ssh = new SshExecutor('rls-1', sshd.hostConfig());
  executors.local = new LocalExecutor('rls-1');
});

afterAll(async () => {
  await Promise.all(Object.values(executors).map((e) => e.close()));
  await sshd.stop();
  await expectNoLeakedHandles();
});

describe.each(['ssh', 'local'])('service control over %s', (transport) => {
  let live: LiveServer;
  const exec = () => executors[transport] as HostExecutor;

  beforeEach(() => {
    live = liveServer();
  });
  afterEach(() => live.destroy());

  it('start waits until status says running; stop waits until it says stopped', async () => {
    const service = live.service();
    expect(await serviceStatus(exec(), service)).toBe('stopped');

    const started = await startService(exec(), service, { pollMs: 50 });
    expect(started).toMatchObject({ state: 'running', exitCode: 0, timedOut: false });
    expect(started.durationMs).toBeGreaterThanOrEqual(300);
    expect(started.stdoutTail).toMatch(/live-server\.sh start → exit 0, "starting"/);
    expect(started.stdoutTail).toMatch(/rls-1 running after/);
    expect(await serviceStatus(exec(), service)).toBe('running');

    const stopped = await stopService(exec(), service, { pollMs: 50 });
    expect(stopped).toMatchObject({ state: 'stopped', exitCode: 0, timedOut: false });
    expect(stopped.durationMs).toBeGreaterThanOrEqual(300);
    expect(stopped.stdoutTail).toMatch(/status → running .*\n.*live-server\.sh stop → exit 0, "stopping"/);
    expect(stopped.stdoutTail).toMatch(/status → stopped \(exit 3, "stopped"\)/);
    expect(await serviceStatus(exec(), service)).toBe('stopped');
  });

  it('does not run stop again when the service is already stopped', async () => {
    const result = await stopService(exec(), live.service(), { pollMs: 50 });
    expect(result).toMatchObject({ state: 'stopped', exitCode: 0 });
    expect(result.stdoutTail).toMatch(/already stopped: stop not run/);
    expect(result.stdoutTail).not.toMatch(/live-server\.sh stop/);
  });

  it('fails clearly when stop never completes, after timeoutMs', async () => {
    await startService(exec(), live.service(), { pollMs: 50 });
    live.ignoreStop(true);
    const began = Date.now();
    const error = await stopService(exec(), live.service({ timeoutMs: 1500 }), { pollMs: 100 }).catch(
      (e: unknown) => e,
    );
    const took = Date.now() - began;
    // It gave up because its timeout passed, while the status kept saying running (the message
    // names the timeout, the state and the polls); the lower bound shows it did wait that long.
    expect(error).toBeInstanceOf(ServiceControlError);
    expect(error).toMatchObject({ code: 'SERVICE_TIMEOUT', node: 'rls-1' });
    expect((error as Error).message).toMatch(
      /^rls-1 still running after 1\.5 s \(stop: exit 0, "stop requested"/,
    );
    expect((error as ServiceControlError).result).toMatchObject({
      timedOut: true,
      exitCode: null,
      state: 'running',
    });
    expect((error as ServiceControlError).result.stdoutTail).toMatch(/status → running .* ×\d+/);
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(await serviceStatus(exec(), live.service())).toBe('running');
  });

  it('uses runningPattern when configured, whatever the exit code', async () => {
    const status = ['sh', '-c', `"$0" status; exit 0`, join(live.dir, 'live-server.sh')];
    const service = live.service({ status, runningPattern: '^running \\(pid \\d+\\)$' });
    expect(await serviceStatus(exec(), service)).toBe('stopped');
    const started = await startService(exec(), service, { pollMs: 50 });
    expect(started.stdoutTail).toMatch(/→ stopped \(exit 0, "stopped"\)/);
    expect(started.stdoutTail).toMatch(/→ running \(exit 0, "running \(pid \d+\)"\)/);
    expect(await serviceStatus(exec(), service)).toBe('running');
  });

  it('never reads a status that cannot run as "stopped"', async () => {
    const broken = live.service({ status: ['sh', '-c', 'exit 127'] });
    await expect(serviceStatus(exec(), broken)).rejects.toMatchObject({ code: 'SERVICE_STATUS' });
    await expect(stopService(exec(), broken, { pollMs: 50 })).rejects.toMatchObject({
      code: 'SERVICE_STATUS',
      message: expect.stringMatching(/rls-1: the status command cannot run \(exit 127\)/),
    });
  });
});
