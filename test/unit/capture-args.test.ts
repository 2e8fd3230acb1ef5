import { captureRefs, fillCaptureRefs, pinCaptureRefs } from '../../src/runbook/capture-args';
import { validateRunbook } from '../../src/runbook/resolve';
import type { Runbook, StepTemplate } from '../../src/runbook/types';

const lookup = (values: Record<string, string>) => (step: string, name: string) => values[`${step}.${name}`];

describe('run-time captures in argv', () => {
  it('pins template references to plan steps, then fills them checked against their format', () => {
    const pinned = pinCaptureRefs('${capture:reset-values.seqno}', (ref) => `${ref.step}--host1`);
    expect(pinned).toBe('${capture:reset-values--host1.seqno}');
    expect(captureRefs([pinned])).toEqual([{ step: 'reset-values--host1', name: 'seqno' }]);
    expect(fillCaptureRefs(pinned, lookup({ 'reset-values--host1.seqno': '7748' }), { seqno: '\\d+' })).toBe(
      '7748',
    );
  });

  it('never runs with a missing value or one outside its format (the whole value must match)', () => {
    const ref = '${capture:s--n.seqno}';
    expect(() => fillCaptureRefs(ref, lookup({}), { seqno: '\\d+' })).toThrow(
      'no seqno was captured by step s--n',
    );
    expect(() => fillCaptureRefs(ref, lookup({ 's--n.seqno': '1; rm -rf /' }), { seqno: '\\d+' })).toThrow(
      /seqno from step s--n is "1; rm -rf \/", not \/\\d\+\//,
    );
    expect(() => fillCaptureRefs(ref, lookup({ 's--n.seqno': '1' }), {})).toThrow(
      'no format is declared for the capture seqno',
    );
  });

  it('validateRunbook: references must name an earlier step that captures them, with a format', () => {
    const read: StepTemplate = {
      id: 'read',
      title: 'read',
      target: { kind: 'target' },
      action: {
        kind: 'command',
        argv: ['x'],
        where: 'host',
        timeoutMs: 1,
        outputs: [{ name: 'seqno', pattern: '(\\d+)' }],
      },
      risk: 'read',
    };
    const use = (
      argv: string[],
      captureFormats?: Record<string, string>,
      when?: StepTemplate['when'],
    ): StepTemplate => ({
      id: 'use',
      title: 'use',
      target: { kind: 'target' },
      action: {
        kind: 'command',
        argv,
        where: 'host',
        timeoutMs: 1,
        ...(captureFormats ? { captureFormats } : {}),
      },
      risk: 'write',
      ...(when ? { when } : {}),
    });
    const book = (...steps: StepTemplate[]): Runbook => ({
      name: 'b',
      flavour: 'tungsten',
      title: 'b',
      source: 's',
      target: 'slave',
      steps,
    });
    expect(validateRunbook(book(read, use(['${capture:read.seqno}'], { seqno: '\\d+' })))).toEqual([]);
    expect(validateRunbook(book(use(['${capture:read.seqno}'], { seqno: '\\d+' }), read))).toEqual([
      'step use: takes seqno from read, which is not an earlier step',
    ]);
    expect(validateRunbook(book(read, use(['${capture:read.epoch}'], { epoch: '\\d+' })))).toEqual([
      'step use: step read captures no epoch',
    ]);
    expect(validateRunbook(book(read, use(['${capture:read.seqno}'])))).toEqual([
      'step use: no captureFormats entry for seqno (every run-time value is checked by a regex)',
    ]);
    expect(validateRunbook(book(read, use(['${capture:read}'])))).toEqual([
      'step use: malformed capture reference in "${capture:read}"',
    ]);
    expect(
      validateRunbook(book(read, use(['x'], undefined, { step: 'read', capture: 'nope', equals: 'y' }))),
    ).toEqual(['step use: step read captures no nope']);
  });
});
