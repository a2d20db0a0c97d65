import { parseIp } from '../api/ip.js';
import { PROTOCOLS, type Protocol } from '../api/model.js';
import type { Endpoint, Flow } from './flow.js';

/** A flow that cannot be understood, with the field at fault. */
export class FlowError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'FlowError';
  }
}

/** `namespace/pod` or an IP address. */
export function parseEndpoint(text: unknown, field: string): Endpoint {
  if (text === undefined) throw new FlowError(field, 'is required: NAMESPACE/POD or an IP address');
  if (typeof text !== 'string' || text === '') throw new FlowError(field, 'must be NAMESPACE/POD or an IP address');
  if (parseIp(text) !== undefined) return { kind: 'ip', ip: text };
  const parts = text.split('/');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new FlowError(field, `${JSON.stringify(text)} is neither NAMESPACE/POD nor an IP address`);
  }
  return { kind: 'pod', namespace: parts[0]!, name: parts[1]! };
}

export function parsePort(value: unknown, field: string): number {
  if (value === undefined) throw new FlowError(field, 'is required: a port number between 1 and 65535');
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new FlowError(field, `must be a port number between 1 and 65535, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function parseProtocol(value: unknown, field: string): Protocol {
  const upper = typeof value === 'string' ? value.toUpperCase() : value;
  if (typeof upper !== 'string' || !(PROTOCOLS as readonly string[]).includes(upper)) {
    throw new FlowError(field, `must be one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return upper as Protocol;
}

/** Parses one flow object `{from, to, port, protocol}`; protocol defaults to TCP. */
export function parseFlow(value: unknown, field: string): Flow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FlowError(field, 'must be an object {from, to, port, protocol}');
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!['from', 'to', 'port', 'protocol'].includes(key)) throw new FlowError(`${field}.${key}`, 'unknown field (known: from, to, port, protocol)');
  }
  return {
    from: parseEndpoint(v['from'], `${field}.from`),
    to: parseEndpoint(v['to'], `${field}.to`),
    port: parsePort(v['port'], `${field}.port`),
    protocol: v['protocol'] === undefined ? 'TCP' : parseProtocol(v['protocol'], `${field}.protocol`),
  };
}

export function formatEndpoint(e: Endpoint): string {
  return e.kind === 'pod' ? `${e.namespace}/${e.name}` : e.ip;
}
