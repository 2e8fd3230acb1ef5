/**
 * manifest.yml creates the Slack app in one step; this keeps it in step with the code: the command
 * the listeners register, the scopes the code needs (no more), Socket Mode and interactivity on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppsManifestCreateArguments } from '@slack/web-api';
import YAML from 'yaml';
import { z } from 'zod';
import { ACTION, SLASH_COMMAND } from '../../src/slack/constants';

type Manifest = AppsManifestCreateArguments['manifest'];

/** Scopes the code uses: commands (/recover), chat:write (post/update/ephemeral), files:write (timeline), usergroups:read (approver groups). */
const SCOPES = ['commands', 'chat:write', 'files:write', 'usergroups:read'] as const;

// Limits from the manifest reference (as documented in @slack/web-api's Manifest type).
const ManifestSchema = z
  .object({
    _metadata: z.object({ major_version: z.number().int(), minor_version: z.number().int() }).optional(),
    display_information: z.object({
      name: z.string().min(1).max(35),
      description: z.string().min(1).max(140),
      background_color: z
        .string()
        .regex(/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i)
        .optional(),
    }),
    features: z.object({
      bot_user: z.object({
        display_name: z.string().regex(/^[a-z0-9._-]{1,80}$/),
        always_online: z.boolean(),
      }),
      slash_commands: z
        .array(
          z.object({
            command: z.string().regex(/^\/[a-z0-9_-]{1,31}$/),
            description: z.string().min(1).max(2000),
            usage_hint: z.string().max(1000),
            url: z.string().url().optional(),
            should_escape: z.boolean(),
          }),
        )
        .min(1),
    }),
    oauth_config: z.object({ scopes: z.object({ bot: z.array(z.enum(SCOPES)) }) }),
    settings: z.object({
      interactivity: z.object({ is_enabled: z.boolean(), request_url: z.string().url().optional() }),
      org_deploy_enabled: z.boolean(),
      socket_mode_enabled: z.boolean(),
      token_rotation_enabled: z.boolean(),
    }),
  })
  .strict();

function loadManifest(file = 'manifest.yml') {
  const text = readFileSync(join(__dirname, '..', '..', file), 'utf8');
  const parsed = ManifestSchema.parse(YAML.parse(text));
  // Compile-time check: the object read from the file is a valid apps.manifest.create argument.
  const manifest: Manifest = parsed;
  return { parsed, manifest };
}

describe('manifest.yml', () => {
  const { parsed, manifest } = loadManifest();

  it('is a valid Slack manifest for the Recover app', () => {
    expect(manifest.display_information.name).toBe('Recover');
    expect(parsed.features.bot_user).toEqual({ display_name: 'recover', always_online: true });
  });

  it('declares exactly the slash command the code listens to', () => {
    expect(parsed.features.slash_commands.map((c) => c.command)).toEqual([SLASH_COMMAND]);
    const [command] = parsed.features.slash_commands;
    expect(command?.should_escape).toBe(false);
    for (const sub of ['status', 'plan', 'run', 'abort', 'runs', 'timeline', 'help']) {
      expect(command?.usage_hint).toMatch(new RegExp(`\\b${sub}\\b`));
    }
  });

  it('asks for exactly the bot scopes the code uses', () => {
    const bot = parsed.oauth_config.scopes.bot;
    expect(new Set(bot)).toEqual(new Set(SCOPES));
    expect(bot).toHaveLength(SCOPES.length);
  });

  it('turns on Socket Mode and interactivity, off org deploy and token rotation', () => {
    expect(parsed.settings).toEqual({
      interactivity: { is_enabled: true },
      org_deploy_enabled: false,
      socket_mode_enabled: true,
      token_rotation_enabled: false,
    });
  });
});

describe('manifest.http.yml', () => {
  const socket = loadManifest().parsed;
  const { parsed } = loadManifest('manifest.http.yml');

  it('is the Socket Mode manifest with Socket Mode off and request URLs for commands and clicks', () => {
    expect(parsed.settings).toEqual({
      interactivity: { is_enabled: true, request_url: 'https://YOUR-HOST/slack/events' },
      org_deploy_enabled: false,
      socket_mode_enabled: false,
      token_rotation_enabled: false,
    });
    expect(parsed.features.slash_commands.map((c) => c.url)).toEqual(['https://YOUR-HOST/slack/events']);
    // Bolt's HTTP receiver listens on /slack/events: the path must be that one.
    expect(new URL(parsed.settings.interactivity.request_url!).pathname).toBe('/slack/events');
    const strip = (m: typeof parsed) => ({
      ...m,
      features: { ...m.features, slash_commands: m.features.slash_commands.map(({ url: _url, ...c }) => c) },
      settings: undefined,
    });
    expect(strip(parsed)).toEqual(strip(socket));
  });
});

// A manifest has no field for block action ids: buttons name them at render time and Bolt routes
// on them, so the check here is that the ids the listeners and renderers share are sound.
describe('ACTION ids', () => {
  it('are non-empty, unique and within Slack’s 255-character action_id limit', () => {
    const ids = Object.values(ACTION);
    for (const id of ids) {
      expect(typeof id).toBe('string');
      expect(id.length).toBeGreaterThan(0);
      expect(id.length).toBeLessThanOrEqual(255);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
