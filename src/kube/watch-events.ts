import type { KubeObject, WatchEvent } from '../controller/port.js';

const OBJECT_EVENTS = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

/**
 * Decodes one line of a watch stream. A line that is not a watch event throws: client-node
 * drops such lines silently, which would leave the cache quietly behind the server.
 */
export function decodeWatchEvent(line: string): WatchEvent {
  const raw = JSON.parse(line) as { type?: unknown; object?: unknown };
  const object = raw.object;
  if (typeof object !== 'object' || object === null) throw new Error(`watch event without an object: ${line.slice(0, 200)}`);
  if (raw.type === 'ERROR') {
    const s = object as { code?: unknown; reason?: unknown; message?: unknown };
    return {
      type: 'ERROR',
      status: {
        ...(typeof s.code === 'number' ? { code: s.code } : {}),
        ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
        ...(typeof s.message === 'string' ? { message: s.message } : {}),
      },
    };
  }
  if (typeof raw.type !== 'string' || !OBJECT_EVENTS.has(raw.type)) throw new Error(`unknown watch event type ${String(raw.type)}`);
  return { type: raw.type as 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK', object: object as KubeObject };
}
