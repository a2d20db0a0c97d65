/**
 * A metav1.MicroTime string: RFC 3339 with exactly six fractional digits. The API server
 * parses MicroTime fields (Lease renewTime, Event eventTime) with RFC3339Micro and rejects
 * the three digits Date#toISOString gives.
 */
export function toMicroTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
