import type { Checker } from '../diagnostics.js';
import { asInteger, asList, asObject, asString, describe, exactlyOne, rejectUnknown } from '../values.js';
import type { ProtocolObject } from './cnp-object.js';
import { requiredField } from './fields.js';
import { DEFAULT_PORT_PROTOCOL, PORT_KEYS, PORT_PROTOCOLS, V1ALPHA1_MAX_ITEMS } from './v1alpha1.js';

// `ports` → `protocols`. Both match the destination port (the subject's for ingress, the peer's for
// egress); a named port resolves on the destination pod in both. What differs is spelling: the
// protocol moves from a field (defaulted to TCP by the v1alpha1 CRD) into the key, and a range that
// v1alpha1 only documents as start < end is one ClusterNetworkPolicy enforces.

const MAX_PROTOCOLS = 25;

type PortProtocol = (typeof PORT_PROTOCOLS)[number];

function protocolOf(raw: unknown, c: Checker): PortProtocol | undefined {
  // Absent: the v1alpha1 CRD's `default: TCP`, which the API server applies on write.
  if (raw === undefined || raw === null) return DEFAULT_PORT_PROTOCOL;
  if (typeof raw === 'string' && (PORT_PROTOCOLS as readonly string[]).includes(raw)) return raw as PortProtocol;
  c.error(`must be one of TCP, UDP, SCTP, got ${describe(raw)} (ClusterNetworkPolicy matches no other protocol by port)`);
  return undefined;
}

function withProtocol(protocol: PortProtocol, destinationPort: { number: number } | { range: { start: number; end: number } }): ProtocolObject {
  switch (protocol) {
    case 'TCP':
      return { tcp: { destinationPort } };
    case 'UDP':
      return { udp: { destinationPort } };
    case 'SCTP':
      return { sctp: { destinationPort } };
  }
}

function convertPort(raw: unknown, c: Checker): ProtocolObject | undefined {
  const obj = asObject(raw, c);
  if (obj === undefined) return undefined;
  rejectUnknown(obj, c, PORT_KEYS);
  const which = exactlyOne(obj, c, PORT_KEYS, 'a port');
  const fc = which === undefined ? c : c.field(which);
  switch (which) {
    case 'portNumber': {
      const body = asObject(obj[which], fc);
      if (body === undefined) return undefined;
      rejectUnknown(body, fc, ['protocol', 'port']);
      const protocol = protocolOf(body['protocol'], fc.field('protocol'));
      const rawPort = requiredField(body, fc, 'port', 'the destination port number');
      const port = rawPort === undefined ? undefined : asInteger(rawPort, fc.field('port'), 1, 65535);
      return protocol === undefined || port === undefined ? undefined : withProtocol(protocol, { number: port });
    }
    case 'portRange': {
      const body = asObject(obj[which], fc);
      if (body === undefined) return undefined;
      rejectUnknown(body, fc, ['protocol', 'start', 'end']);
      const protocol = protocolOf(body['protocol'], fc.field('protocol'));
      const rawStart = requiredField(body, fc, 'start', 'the first port of the range');
      const rawEnd = requiredField(body, fc, 'end', 'the last port of the range');
      const start = rawStart === undefined ? undefined : asInteger(rawStart, fc.field('start'), 1, 65535);
      const end = rawEnd === undefined ? undefined : asInteger(rawEnd, fc.field('end'), 1, 65535);
      if (protocol === undefined || start === undefined || end === undefined) return undefined;
      if (start >= end) {
        // v1alpha1 documents "the Start value must be less than End" without enforcing it, so
        // implementations differed on such ranges; ClusterNetworkPolicy enforces start < end.
        fc.error(
          `start ${start} is not less than end ${end}: v1alpha1 requires start < end (documented, not enforced) and ClusterNetworkPolicy enforces it` +
            (start === end ? '; for a single port write portNumber' : ''),
        );
        return undefined;
      }
      return withProtocol(protocol, { range: { start, end } });
    }
    case 'namedPort': {
      const name = asString(obj[which], fc);
      if (name === undefined) return undefined;
      if (name === '') {
        fc.error('must not be empty (an empty name selects no port)');
        return undefined;
      }
      return { destinationNamedPort: name };
    }
  }
  return undefined;
}

/** A rule's `ports` (present and not null) as `protocols`, in the same order. */
export function convertPorts(raw: unknown, c: Checker): ProtocolObject[] | undefined {
  const list = asList(raw, c, 0, Number.MAX_SAFE_INTEGER);
  if (list === undefined) return undefined;
  if (list.length === 0) {
    // v0.1.1 allowed `ports: []` without saying what it matches (every port, as when ports is
    // unset, or none); later releases require at least one entry. Either reading is a guess.
    c.error('is an empty list, which v1alpha1 gives no meaning (later v0.1.x releases reject it): remove it to match every port, or list the ports');
    return undefined;
  }
  if (list.length > MAX_PROTOCOLS) {
    c.error(`has ${list.length} entries; a ClusterNetworkPolicy rule has at most ${MAX_PROTOCOLS} protocols (v1alpha1 allowed ${V1ALPHA1_MAX_ITEMS}): split the rule yourself`);
    return undefined;
  }
  const out: ProtocolObject[] = [];
  let ok = true;
  list.forEach((item, i) => {
    const p = convertPort(item, c.index(i));
    if (p === undefined) ok = false;
    else out.push(p);
  });
  return ok ? out : undefined;
}
