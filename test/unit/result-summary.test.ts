import { oneLine, resultSummary } from '../../src/engine/run-step';
import type { PlanStep, StepResult } from '../../src/runbook/types';

const step = { id: 'find-event--host1' } as PlanStep;
const result = (captured: Record<string, string>): StepResult => ({
  ok: true,
  rows: [],
  rowCount: 0,
  affectedRows: null,
  exitCode: 0,
  stdoutTail: null,
  stderrTail: null,
  bytes: null,
  durationMs: 115.4,
  captured,
  error: null,
  note: null,
});

describe('resultSummary', () => {
  it('keeps a multi-line capture (a THL header) to its first line and says how many follow', () => {
    const header = 'SEQ# = 10 / FRAG# = 0 (last frag)\n- FILE = thl.data.0000000001\n- EPOCH# = 0\n';
    expect(resultSummary(step, result({ header, decision: 'reset' }))).toBe(
      'find-event--host1: ok, exit 0, captured header=SEQ# = 10 / FRAG# = 0 (last frag) (+2 lines) decision=reset, 115 ms',
    );
  });

  it('shortens a long single line and shows tabs as spaces', () => {
    expect(oneLine('trep\t6\t0\thost1')).toBe('trep 6 0 host1');
    const long = 'x'.repeat(300);
    expect(oneLine(long)).toBe(`${'x'.repeat(120)}…`);
  });
});
