import type { Runbook } from '../../../runbook/types';
import { switchoverSteps } from './switchover-steps';

/**
 * Planned switchover to the --target standby, zero loss or refuse (SYSTEMS.md §2.3): the acting
 * primary stops cleanly, the target must replay its last checkpoint before it is promoted, and
 * the old primary rejoins as a standby of the new one (pg_rewind -R, its own settings re-applied).
 * If the target never catches up, nothing is promoted and the old primary stays stopped.
 */
export const postgresSwitchover: Runbook = {
  name: 'postgres-switchover',
  flavour: 'postgres-streaming',
  title: 'Switch over to a standby (zero loss or refuse)',
  source: '003_7036779b36b4e546.txt (A.3.7 "artificially fail over")',
  target: 'any',
  steps: switchoverSteps('switchover-followers'),
};
