import type { KnownBlock } from '@slack/types';

/** A message ready for chat.postMessage / chat.update / respond: fallback text plus blocks within Slack's limits. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** What a button carries; JSON in the button's `value`, re-validated (never trusted) when clicked. */
export interface PlanButtonValue {
  topology: string;
  runbook: string;
  target: string | null;
}
export interface StartButtonValue extends PlanButtonValue {
  planHash: string;
}
export interface ApprovalButtonValue {
  runId: string;
  gate: string;
  planHash: string;
}
export interface DecideButtonValue {
  runId: string;
  stepId: string;
  choice: 'retry' | 'mark-done' | 'abort';
}
