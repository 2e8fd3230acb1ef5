import { z } from 'zod';

const botToken = z.string({ error: 'is required' }).regex(/^xoxb-/, 'must be a bot token (xoxb-…)');
const apiUrl = z.url({ error: 'must be a URL' }).optional();

/** Socket Mode by default (no public endpoint needed); HTTP mode when SLACK_MODE=http. */
export const SlackSettings = z.discriminatedUnion('SLACK_MODE', [
  z.object({
    SLACK_MODE: z.literal('socket'),
    SLACK_BOT_TOKEN: botToken,
    SLACK_APP_TOKEN: z
      .string({ error: 'is required in Socket Mode' })
      .regex(/^xapp-/, 'must be an app-level token (xapp-…)'),
    SLACK_API_URL: apiUrl,
  }),
  z.object({
    SLACK_MODE: z.literal('http'),
    SLACK_BOT_TOKEN: botToken,
    SLACK_SIGNING_SECRET: z
      .string({ error: 'is required in HTTP mode' })
      .min(16, 'looks too short for a signing secret'),
    PORT: z.coerce.number({ error: 'must be a port number' }).int().min(1).max(65535).default(3000),
    SLACK_API_URL: apiUrl,
  }),
]);
export type SlackSettings = z.infer<typeof SlackSettings>;

export class SettingsError extends Error {
  readonly code = 'SETTINGS_INVALID';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SettingsError';
  }
}

/** Validate the Slack settings; every problem is one line naming the variable (never its value). */
export function parseSlackSettings(raw: Record<string, string | undefined>): SlackSettings {
  const mode = raw.SLACK_MODE ?? 'socket';
  if (mode !== 'socket' && mode !== 'http')
    throw new SettingsError([`SLACK_MODE: must be "socket" or "http", not "${mode}"`]);
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const result = SlackSettings.safeParse({ ...present, SLACK_MODE: mode });
  if (result.success) return result.data;
  throw new SettingsError(result.error.issues.map((i) => `${i.path.join('.') || 'SLACK'}: ${i.message}`));
}
