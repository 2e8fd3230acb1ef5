import type { AlertRecord } from './alert-store';
import type { AlertSink } from './poll';

/** Alerts as lines on a terminal: `recover monitor` without a Slack token (Slack may be what is down). */
export function terminalAlertSink(out: NodeJS.WritableStream, clock: () => Date): AlertSink {
  let n = 0;
  const say = (icon: string, a: AlertRecord, extra: string[] = []): void => {
    out.write(
      [
        `${clock().toISOString()} ${icon} [${a.topology}] ${a.detail.summary}`,
        ...extra.map((l) => `    ${l}`),
      ].join('\n') + '\n',
    );
  };
  return {
    async opened(channel, a) {
      say('🚨', a, [...a.detail.facts, `proposal: ${a.detail.proposal}`, `(alert channel ${channel})`]);
      return `terminal-${++n}`;
    },
    changed: async (_channel, _ts, a) => say('↻', a, a.detail.facts),
    returned: async (_channel, _ts, a) => say('🔁 back again:', a),
    resolved: async (_channel, _ts, a) => say('✅ resolved:', a),
  };
}
