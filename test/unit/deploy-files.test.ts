import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load';
import { buildProgram } from '../../src/cli/main';

/** Dockerfile and compose.yaml checked statically: there is no Docker engine here. */
const root = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const dockerfile = DockerfileParser.parse(text);
  const stages: { name: string | null; instructions: Instruction[] }[] = [];
  for (const i of dockerfile.getInstructions()) {
    if (i.getKeyword() === 'FROM')
      stages.push({ name: dockerfile.getFROMs()[stages.length]!.getBuildStage(), instructions: [] });
    stages.at(-1)?.instructions.push(i);
  }
  const final = stages.at(-1)!;
  const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());
  const of = (keyword: string, stage = final) => stage.instructions.filter((i) => i.getKeyword() === keyword);
  const copyFrom = (i: Instruction) => (i as Copy).getFromFlag()?.getValue() ?? undefined;

  test('has no syntax errors or warnings (dockerfile-utils, as VS Code lints it)', () => {
    const problems = validate(text).filter(
      (d) => d.severity === ValidationSeverity.ERROR || d.severity === ValidationSeverity.WARNING,
    );
    expect(problems.map((p) => `${p.range.start.line + 1}: ${p.message}`)).toEqual([]);
  });

  test('is multi-stage: a build stage, then a runtime that copies only its output', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    const build = stages[0]!;
    expect(
      of('RUN', build)
        .map((r) => r.getArgumentsContent())
        .join('\n'),
    ).toMatch(/npm run build && npm prune --omit=dev/);
    const fromFlags = of('COPY').map(copyFrom);
    expect(fromFlags.filter(Boolean)).toEqual(['build', 'build']);
  });

  test('the build stage installs npm 11 before the dependencies (allowScripts needs it)', () => {
    const runs = of('RUN', stages[0]!).map((r) => r.getArgumentsContent() ?? '');
    const npm11 = runs.findIndex((r) => /npm install -g npm@11(\.|\s|$)/.test(r));
    const deps = runs.findIndex((r) => r.includes('scripts/install-deps.sh'));
    expect(npm11).toBeGreaterThanOrEqual(0);
    expect(deps).toBeGreaterThan(npm11);
  });

  test('runs as a non-root user, with a health check that is a real command', () => {
    const users = of('USER').map((u) => args(u)[0]);
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    const [health] = of('HEALTHCHECK');
    const cmd = JSON.parse(health!.getArgumentsContent()!.replace(/^.*?CMD\s+/s, '')) as string[];
    expect(cmd.slice(0, 3)).toEqual(['node', 'bin/recover.js', 'health']);
    const commands = buildProgram({} as never).commands.map((c) => c.name());
    expect(commands).toEqual(expect.arrayContaining(['health', 'bot']));
  });

  test('ENTRYPOINT and CMD are exec form (signals reach the bot through tini)', () => {
    for (const keyword of ['ENTRYPOINT', 'CMD']) {
      const [i] = of(keyword);
      expect(() => JSON.parse(i!.getArgumentsContent()!)).not.toThrow();
    }
    expect(JSON.parse(of('ENTRYPOINT')[0]!.getArgumentsContent()!)).toEqual([
      'tini',
      '--',
      'node',
      'bin/recover.js',
    ]);
  });

  test('every file it copies from the context exists and is not excluded by .dockerignore', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sources = stages.flatMap((s) =>
      of('COPY', s)
        .filter((c) => copyFrom(c) === undefined)
        .flatMap((c) => args(c).slice(0, -1)),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect([src, existsSync(join(root, src))]).toEqual([src, true]);
      expect(ignored.filter((pattern) => src === pattern || src.startsWith(`${pattern}/`))).toEqual([]);
    }
    // Secrets and local state never enter the build context.
    expect(ignored).toEqual(expect.arrayContaining(['.env', '.demo', 'node_modules', 'recover.yaml']));
  });
});

const Compose = z.object({
  services: z.object({
    redis: z.object({
      image: z.string().regex(/^redis:/),
      command: z.array(z.string()),
      volumes: z.array(z.string()),
      healthcheck: z.object({ test: z.array(z.string()) }),
    }),
    bot: z.object({
      build: z.string(),
      depends_on: z.object({ redis: z.object({ condition: z.literal('service_healthy') }) }),
      environment: z.record(z.string(), z.string()),
      env_file: z.array(z.object({ path: z.string(), required: z.boolean() })),
      volumes: z.array(z.string()),
    }),
  }),
  volumes: z.record(z.string(), z.unknown()),
});

describe('compose.yaml', () => {
  const text = read('compose.yaml');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const compose = Compose.parse(doc.toJS());
  const env = compose.services.bot.environment;

  test('is well-formed YAML with the services and fields the bot depends on', () => {
    expect([...doc.errors, ...doc.warnings].map((e) => e.message)).toEqual([]);
    expect(compose.services.bot.build).toBe('.');
  });

  test("Redis keeps every write (AOF) and never evicts (BullMQ's requirement)", () => {
    const cmd = compose.services.redis.command;
    const flag = (name: string) => cmd[cmd.indexOf(name) + 1];
    expect(cmd[0]).toBe('redis-server');
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    expect(compose.services.redis.volumes[0]).toMatch(/^redis-data:\/data$/);
    expect(Object.keys(compose.volumes)).toContain('redis-data');
    expect(env.REDIS_URL).toBe('redis://redis:6379');
  });

  test('secrets come from the environment, never as literals', () => {
    const secretish = Object.entries(env).filter(([k]) => /TOKEN|SECRET|PASSWORD/.test(k));
    expect(secretish.length).toBeGreaterThanOrEqual(3);
    for (const [name, value] of secretish)
      expect([name, value]).toEqual([name, expect.stringMatching(/^\$\{\w+/)]);
  });

  test('every variable it sets is one Recover reads (src/config/env.ts)', () => {
    const readByRecover = new Set(
      [...read('src/config/env.ts').matchAll(/env\.([A-Z_]+)/g)].map((m) => m[1]),
    );
    for (const name of Object.keys(env)) expect([name, readByRecover.has(name)]).toEqual([name, true]);
    // The image's default config path is where compose mounts the topology file.
    expect(read('Dockerfile')).toContain(`RECOVER_CONFIG=${env.RECOVER_CONFIG}`);
    expect(compose.services.bot.volumes[0]).toMatch(new RegExp(`:${env.RECOVER_CONFIG}:ro$`));
  });

  test('Socket Mode publishes no port, so --scale bot=2 can start two bots', () => {
    expect(env.SLACK_MODE).toBe('socket');
    expect(doc.getIn(['services', 'bot', 'ports'])).toBeUndefined();
  });

  test('compose.http.yaml switches to HTTP mode and publishes the port only there', () => {
    const http = parseDocument(read('compose.http.yaml'), { uniqueKeys: true, prettyErrors: true });
    expect([...http.errors, ...http.warnings].map((e) => e.message)).toEqual([]);
    const bot = z
      .object({
        environment: z.object({ SLACK_MODE: z.literal('http'), SLACK_SIGNING_SECRET: z.string() }),
        ports: z.array(z.string()),
      })
      .parse(http.getIn(['services', 'bot']) && (http.toJS() as { services: { bot: unknown } }).services.bot);
    expect(bot.ports).toEqual(['${RECOVER_HTTP_PORT:-3000}:3000']);
    expect(bot.environment.SLACK_SIGNING_SECRET).toMatch(/^\$\{SLACK_SIGNING_SECRET/);
  });

  test('the example topology it points to is a valid topology file', () => {
    expect(loadConfig(join(root, 'recover.example.yaml')).topologies[0]!.name).toBe('prod-live');
  });
});
