import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface GetOptions {
  readonly ca?: string | Buffer;
  readonly token?: string;
  readonly timeoutMs?: number;
}

export interface Response {
  readonly status: number;
  readonly body: string;
}

/** One GET; network errors reject. Used for health checks, where any failure means "not yet". */
export function get(url: string, opts: GetOptions = {}): Promise<Response> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: 'GET',
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
        timeout: opts.timeoutMs ?? 5_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Like `get`, but any failure is `undefined`. */
export async function tryGet(url: string, opts: GetOptions = {}): Promise<Response | undefined> {
  try {
    return await get(url, opts);
  } catch {
    return undefined;
  }
}
