import { runCommand } from '../../src/engine/command-actions';
import { LocalExecutor } from '../../src/hosts/local-executor';
import type { CommandSpec } from '../../src/runbook/types';

/**
 * A CLI that needs a password on its command line (MultiSite's -password) gets it through stdin
 * at run time: the plan holds only the variable's name, the output never shows the value.
 */
const exec = new LocalExecutor('bot-host', { secrets: ['s3cret-pw'] });
afterAll(() => exec.close());

const spec: CommandSpec = {
  argv: ['bash', '-c', 'IFS= read -r pw; [ "${#pw}" = 9 ] && echo "got it: $pw"'],
  where: 'local',
  timeoutMs: 10_000,
  stdinSecret: 'MS_PASSWORD',
};

it('writes the named variable to stdin, and redacts it from the output', async () => {
  const r = await runCommand(exec, spec, null, (name) => (name === 'MS_PASSWORD' ? 's3cret-pw' : undefined));
  expect(r).toMatchObject({ ok: true, exitCode: 0 });
  expect(r.stdoutTail).toBe('got it: [redacted]\n');
  expect(JSON.stringify([spec, r])).not.toContain('s3cret');
});

it('refuses to run without the variable', async () => {
  const r = await runCommand(exec, spec, null, () => undefined);
  expect(r).toMatchObject({ ok: false, exitCode: null });
  expect(r.error).toBe('environment variable MS_PASSWORD is not set for the bot: nothing was run');
});
