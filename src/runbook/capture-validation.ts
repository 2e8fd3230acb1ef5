import { captureRefs, malformedRefs, type CaptureRef } from './capture-args';
import type { StepTemplate } from './types';

/** validateRunbook's checks of run-time values: where each `${capture:…}` and `when` reads from. */

/** A SQL capture, a command output, or any value of a rule step (its outputs are the flavour's). */
export function declaresCapture(source: StepTemplate, name: string): boolean {
  const a = source.action;
  return (
    a.kind === 'rule' ||
    (source.captures ?? []).some((c) => c.name === name) ||
    (a.kind === 'command' && (a.outputs ?? []).some((o) => o.name === name))
  );
}

/** What a step's run-time capture references (argv, rule args, `when`) point at must exist before it. */
export function captureRefProblems(t: StepTemplate, seen: ReadonlyMap<string, StepTemplate>): string[] {
  const a = t.action;
  const spec =
    a.kind === 'command'
      ? a
      : (a.kind === 'wait-until' || a.kind === 'checklist') && a.probe.kind === 'command'
        ? a.probe
        : null;
  const texts = spec
    ? [...spec.argv, ...(spec.stdin !== undefined ? [spec.stdin] : [])]
    : a.kind === 'rule'
      ? Object.values(a.args)
      : [];
  const problems = malformedRefs(texts).map((x) => `malformed capture reference in ${JSON.stringify(x)}`);
  if (spec?.stdin !== undefined && captureRefs([spec.stdin]).length > 0)
    problems.push('stdin may not take run-time captures (argv only)');
  const refs: CaptureRef[] = [
    ...captureRefs(texts),
    ...(t.when ? [t.when] : []).map((w) => ({ step: w.step, name: w.capture })),
  ];
  for (const ref of refs) {
    const source = seen.get(ref.step);
    if (!source) {
      problems.push(`takes ${ref.name} from ${ref.step}, which is not an earlier step`);
      continue;
    }
    if (!declaresCapture(source, ref.name)) problems.push(`step ${ref.step} captures no ${ref.name}`);
  }
  if (spec)
    for (const ref of captureRefs(texts))
      if (spec.captureFormats?.[ref.name] === undefined)
        problems.push(`no captureFormats entry for ${ref.name} (every run-time value is checked by a regex)`);
  return problems;
}
