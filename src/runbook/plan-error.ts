export type PlanErrorCode =
  | 'target-required'
  | 'target-unexpected'
  | 'unknown-target'
  | 'bad-target'
  | 'target-unreadable'
  | 'no-dedicated-slave'
  | 'no-candidate'
  | 'refused'
  | 'ambiguous-capture'
  | 'missing-capture'
  | 'ambiguous-source'
  | 'self-source'
  | 'wrong-flavour'
  | 'status-mismatch'
  | 'bad-runbook';

/** A plan that cannot be made from this runbook, topology and probe; the message is for the operator. */
export class PlanError extends Error {
  override name = 'PlanError';
  constructor(
    readonly code: PlanErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function planFail(code: PlanErrorCode, message: string): never {
  throw new PlanError(code, message);
}
