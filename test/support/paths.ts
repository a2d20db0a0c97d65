import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The shared reference data, which lives beside the repository (also in CI). */
export const SHARED = join(REPO, '..', 'shared');
export const UPSTREAM = join(SHARED, 'upstream');
export const CONFORMANCE = join(UPSTREAM, 'network-policy-api', 'conformance');
