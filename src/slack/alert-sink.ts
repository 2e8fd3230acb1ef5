import type { AlertSink } from '../monitor/poll';
import { alertMessage, alertResolvedReply, alertReturnedReply } from './blocks';
import type { SlackOutbox } from './outbox';

/** The monitor's voice in Slack: one message per alert, updated in place, replies in its thread. */
export function slackAlertSink(outbox: SlackOutbox): AlertSink {
  return {
    async opened(channel, alert) {
      return (await outbox.post(channel, alertMessage(alert))).ts;
    },
    changed: (channel, ts, alert) => outbox.update(channel, ts, alertMessage(alert)),
    async returned(channel, ts, alert) {
      await outbox.update(channel, ts, alertMessage(alert));
      await outbox.post(channel, alertReturnedReply(alert), ts);
    },
    async resolved(channel, ts, alert) {
      await outbox.post(channel, alertResolvedReply(alert), ts);
      await outbox.update(channel, ts, alertMessage(alert));
    },
  };
}
