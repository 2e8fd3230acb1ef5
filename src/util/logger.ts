import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stderr. Anything that might carry a secret is redacted by key, wherever it
 * nests: tokens, passwords, signing secrets, authorization headers.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { app: 'recover' },
      redact: {
        paths: [
          '*.token',
          '*.password',
          '*.signingSecret',
          '*.appToken',
          '*.botToken',
          '*.authorization',
          'headers.authorization',
          '*.SLACK_BOT_TOKEN',
          '*.SLACK_APP_TOKEN',
          '*.SLACK_SIGNING_SECRET',
        ],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream,
  );
}
