import { renderEngineEvent } from '../render/event-text';
import type { EngineEvent, Notifier } from './types';

/** Prints engine events as lines: the worker's voice in a terminal. */
export class TerminalNotifier implements Notifier {
  constructor(private readonly out: NodeJS.WritableStream) {}

  async notify(event: EngineEvent): Promise<void> {
    const line = renderEngineEvent(event);
    if (line) this.out.write(line + '\n');
  }
}

/** For commands that only read or decide: the worker that runs the steps does the talking. */
export const silentNotifier: { notify(event: EngineEvent): Promise<void> } = {
  notify: async () => undefined,
};
