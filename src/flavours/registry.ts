import type { FlavourName } from '../config/topology';
import { coremedia } from './coremedia';
import { multisite } from './multisite';
import { postgresStreaming } from './postgres-streaming';
import { tungsten } from './tungsten';
import type { Flavour, StatusReport } from './types';

/**
 * Every flavour Recover knows, by name; one folder under src/flavours each (a test checks that
 * the folders and this map agree). Flavours named in the schema but missing here are refused at load.
 */
export const FLAVOURS: Partial<Record<FlavourName, Flavour>> = {
  coremedia: erase(coremedia),
  'postgres-streaming': erase(postgresStreaming),
  tungsten: erase(tungsten),
  multisite: erase(multisite),
};

/** Each flavour is typed by its own report; callers get it by the report's flavour name, so they match. */
function erase<R extends StatusReport>(flavour: Flavour<R>): Flavour {
  return flavour as unknown as Flavour;
}

export class UnsupportedFlavourError extends Error {
  readonly code = 'UNSUPPORTED_FLAVOUR';
  constructor(readonly flavour: string) {
    super(
      `flavour "${flavour}" is not supported yet (supported: ${Object.keys(FLAVOURS).sort().join(', ')})`,
    );
    this.name = 'UnsupportedFlavourError';
  }
}

export function isSupportedFlavour(name: string): name is FlavourName {
  return Object.hasOwn(FLAVOURS, name);
}

/** The flavour called `name`, or UnsupportedFlavourError. */
export function flavourOf(name: string): Flavour<StatusReport> {
  const flavour = isSupportedFlavour(name) ? FLAVOURS[name] : undefined;
  if (!flavour) throw new UnsupportedFlavourError(name);
  return flavour;
}

export function allFlavours(): Flavour<StatusReport>[] {
  return Object.values(FLAVOURS);
}
