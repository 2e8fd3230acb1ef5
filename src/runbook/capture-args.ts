/**
 * `${capture:STEP.NAME}` in a command's argv (or a rule's args): a value an earlier step
 * captured, known only at run time (Tungsten: the seqno the primary's THL gives for the restored
 * backup's position). At plan time the reference is checked and pinned to one concrete plan step
 * (`${capture:STEP--NODE.NAME}`); at run time it is filled in, each value checked against the
 * runbook's regex for it. Values stay argv elements: they are quoted like every other element
 * and never parsed by a shell.
 */

/** A reference in a runbook (template step id) or in a plan (concrete plan step id). */
const REF = /\$\{capture:([a-z0-9]+(?:-[a-z0-9]+)*(?:--[a-z][a-z0-9_-]*)?)\.([A-Za-z][A-Za-z0-9_]*)\}/g;

export interface CaptureRef {
  step: string;
  name: string;
}

export class CaptureArgError extends Error {
  readonly code = 'CAPTURE_ARG';
  constructor(message: string) {
    super(message);
    this.name = 'CaptureArgError';
  }
}

/** Every capture reference in these strings, in order. */
export function captureRefs(texts: readonly string[]): CaptureRef[] {
  return texts.flatMap((t) => [...t.matchAll(REF)].map((m) => ({ step: m[1]!, name: m[2]! })));
}

/** `${capture:` that does not parse as a reference: a runbook typo would otherwise run as text. */
export function malformedRefs(texts: readonly string[]): string[] {
  return texts.filter((t) => t.replace(REF, '').includes('${capture:'));
}

/** Plan time: pin each template reference to its concrete plan step (`pin` names it or throws). */
export function pinCaptureRefs(text: string, pin: (ref: CaptureRef) => string): string {
  return text.replace(REF, (_, step: string, name: string) => `\${capture:${pin({ step, name })}.${name}}`);
}

/** A value looked up by concrete plan step id and capture name. */
export type CaptureLookup = (planStepId: string, name: string) => string | undefined;

/**
 * Run time: fill every reference. A value that was not captured, or does not match its format
 * (the whole value), throws CaptureArgError: the command must not run with a guess.
 */
export function fillCaptureRefs(
  text: string,
  lookup: CaptureLookup,
  formats: Readonly<Record<string, string>> | null,
): string {
  return text.replace(REF, (_, step: string, name: string) => {
    const value = lookup(step, name);
    if (value === undefined) throw new CaptureArgError(`no ${name} was captured by step ${step}`);
    if (formats !== null) {
      const format = formats[name];
      if (format === undefined) throw new CaptureArgError(`no format is declared for the capture ${name}`);
      if (!new RegExp(`^(?:${format})$`).test(value))
        throw new CaptureArgError(`${name} from step ${step} is ${JSON.stringify(value)}, not /${format}/`);
    }
    return value;
  });
}
