/**
 * Every name Slack sees: the slash command and the action ids of our buttons. manifest.yml is
 * checked against these in a test, so the manifest and the code cannot drift apart.
 */
export const SLASH_COMMAND = '/recover';

export const ACTION = {
  refreshStatus: 'recover_status_refresh',
  showPlan: 'recover_plan_show',
  startRun: 'recover_run_start',
  approve: 'recover_approve',
  reject: 'recover_reject',
  abortRun: 'recover_run_abort',
  decide: 'recover_decide',
  alertInspect: 'recover_alert_inspect',
  alertPlan: 'recover_alert_plan',
  alertAck: 'recover_alert_ack',
} as const;
export type ActionId = (typeof ACTION)[keyof typeof ACTION];

/** Slack's hard limits (Block Kit and chat.postMessage). */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionTextChars: 3000,
  /** The fallback `text` of a message; Slack truncates at 40k, we keep it short. */
  fallbackTextChars: 3000,
  buttonValueChars: 2000,
} as const;
