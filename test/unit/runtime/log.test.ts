import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../src/controller/port.js';
import { createLogger } from '../../../src/controller/runtime/log.js';

function capture(level?: 'debug' | 'info' | 'warn' | 'error'): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level,
    now: () => new Date('2026-11-25T13:00:00Z'),
    write: (l) => {
      expect(l.endsWith('\n')).toBe(true);
      expect(l.slice(0, -1)).not.toContain('\n');
      lines.push(JSON.parse(l) as Record<string, unknown>);
    },
  });
  return { lines, log };
}

describe('createLogger', () => {
  it('writes one JSON object per line with ts, level, msg and the fields', () => {
    const { lines, log } = capture();
    log.info('reconciled', { key: 'deny-all', objects: 3 });
    expect(lines).toEqual([{ ts: '2026-11-25T13:00:00.000Z', level: 'info', msg: 'reconciled', key: 'deny-all', objects: 3 }]);
  });

  it('drops lines below its level', () => {
    const { lines, log } = capture('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => l['level'])).toEqual(['warn', 'error']);
  });

  it('spells out errors, including the API status and reason', () => {
    const { lines, log } = capture();
    log.error('apply failed', { error: new KubeApiError(409, 'Conflict', 'PATCH x: 409 conflict') });
    expect(lines[0]?.['error']).toMatchObject({ name: 'KubeApiError', message: 'PATCH x: 409 conflict', status: 409, reason: 'Conflict' });
  });

  it('child loggers add their fields; reserved keys cannot be overridden by fields', () => {
    const { lines, log } = capture();
    log.child({ logger: 'informer' }).warn('watch failed', { level: 'debug', msg: 'spoof' });
    expect(lines[0]).toMatchObject({ logger: 'informer', level: 'warn', msg: 'watch failed' });
  });
});
