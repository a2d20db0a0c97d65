import type { Snapshot } from '../../api/model.js';
import type { Translation } from '../types.js';
import type { CiliumOptions } from './options.js';

export function translateCilium(_snapshot: Snapshot, _options: CiliumOptions = {}): Translation {
  return { objects: [], findings: [] };
}
