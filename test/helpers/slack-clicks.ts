import type { RecordedCall, SlackStandin } from './slack-standin';

export interface FoundButton {
  actionId: string;
  value: string;
  channel: string;
  ts: string;
}

/** Every button in a recorded message's blocks. */
export function buttonsIn(call: RecordedCall, ts: string): FoundButton[] {
  const blocks = (call.args.blocks ?? []) as {
    type: string;
    elements?: { type: string; action_id?: string; value?: string }[];
  }[];
  return blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .filter((e) => e.type === 'button' && e.action_id)
    .map((e) => ({ actionId: e.action_id!, value: e.value ?? '', channel: String(call.args.channel), ts }));
}

/** Wait for a posted message carrying a button with this action id (newest first) that `accept` takes. */
export async function waitForButton(
  standin: SlackStandin,
  actionId: string,
  after = 0,
  timeoutMs = 15_000,
  accept: (button: FoundButton) => boolean = () => true,
): Promise<FoundButton> {
  return standin.waitFor(() => {
    const posts = standin.calls.filter((c) => c.method === 'chat.postMessage' && c.at >= after);
    for (const call of [...posts].reverse()) {
      const ts = postedTs(standin, call);
      const hit = buttonsIn(call, ts).find((b) => b.actionId === actionId && accept(b));
      if (hit) return hit;
    }
    return undefined;
  }, timeoutMs);
}

/** A stable id for a recorded message (the click's message_ts only serves de-duplication). */
function postedTs(standin: SlackStandin, call: RecordedCall): string {
  return `${Math.floor(call.at / 1000)}.${String(standin.calls.indexOf(call)).padStart(6, '0')}`;
}

/** A block_actions payload as Slack sends it when `user` clicks `button`. */
export function clickPayload(button: FoundButton, user: string, responseUrl: string): unknown {
  return {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: 'T0STANDIN' },
    api_app_id: 'A0RECOVER',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: button.ts, channel_id: button.channel, is_ephemeral: false },
    trigger_id: `trigger-${Date.now()}-${Math.random()}`,
    team: { id: 'T0STANDIN', domain: 'standin' },
    channel: { id: button.channel, name: 'incident' },
    response_url: responseUrl,
    actions: [
      {
        action_id: button.actionId,
        block_id: 'b',
        type: 'button',
        value: button.value,
        action_ts: `${Date.now() / 1000}`,
        text: { type: 'plain_text', text: 'x' },
      },
    ],
  };
}
