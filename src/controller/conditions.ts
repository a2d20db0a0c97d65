import { digest } from '../translate/digest.js';
import type { Finding } from '../translate/types.js';
import { sharedStrings } from './strings.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition. */
export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
  readonly reason: string;
  readonly message: string;
}

export const ACCEPTED = 'Accepted';
export const PROGRAMMED = 'Programmed';
export const EXACT = 'Exact';

/** The API's limit on a condition message. */
const MAX_MESSAGE = 32768;

/** What the reconciler knows about one CNP, from which its conditions follow. */
export type ProgramState =
  | { readonly kind: 'programmed'; readonly objects: number; readonly backend: string }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'backend-unavailable'; readonly message: string }
  | { readonly kind: 'native-enforcement'; readonly message: string }
  | { readonly kind: 'apply-failed'; readonly message: string }
  | { readonly kind: 'conflict'; readonly message: string };

export interface ConditionInput {
  readonly generation: number;
  /** Validation problems with field paths; errors make the CNP unusable. */
  readonly errors: readonly string[];
  /** Parts not understood, enforced in their fail-closed form. */
  readonly unsupported: readonly string[];
  readonly warnings: readonly string[];
  readonly program: ProgramState;
  readonly findings: readonly Finding[];
}

function clip(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 20)}… (truncated)`;
}

function list(items: readonly string[]): string {
  return items.join('; ');
}

export function describeFinding(f: Finding): string {
  const rule = f.direction === undefined ? '' : `${f.direction}[${f.ruleIndex ?? '?'}]${f.ruleName === undefined ? '' : ` "${f.ruleName}"`}: `;
  const effect =
    f.effect === 'accept-narrowed'
      ? ' (fails closed: accepts less than written)'
      : f.effect === 'deny-widened'
        ? ' (fails closed: denies more than written)'
        : f.effect === 'deny-narrowed'
          ? ' (NOT fail-closed: denies less than written for that traffic)'
          : f.effect === 'accept-widened'
            ? ' (NOT fail-closed: accepts more than written)'
            : '';
  return `${f.message.startsWith(rule) ? '' : rule}${f.message}${effect}`;
}

type Draft = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

function accepted(input: ConditionInput): Draft {
  if (input.errors.length > 0) return { type: ACCEPTED, status: 'False', reason: 'Invalid', message: list(input.errors) };
  if (input.unsupported.length > 0) {
    return { type: ACCEPTED, status: 'False', reason: 'UnsupportedField', message: list(input.unsupported) };
  }
  return { type: ACCEPTED, status: 'True', reason: 'Accepted', message: input.warnings.length > 0 ? list(input.warnings) : 'The policy is valid.' };
}

function programmed(p: ProgramState): Draft {
  switch (p.kind) {
    case 'programmed':
      return { type: PROGRAMMED, status: 'True', reason: 'Programmed', message: `${p.objects} ${p.backend} object${p.objects === 1 ? '' : 's'} written and in sync.` };
    case 'invalid':
      return { type: PROGRAMMED, status: 'False', reason: 'Invalid', message: 'Nothing was written for this generation; objects written for an earlier valid one are kept.' };
    case 'backend-unavailable':
      return { type: PROGRAMMED, status: 'False', reason: 'BackendUnavailable', message: p.message };
    case 'native-enforcement':
      // The expected state where the CNI enforces CNPs itself: healthy, and saying who enforces.
      return { type: PROGRAMMED, status: 'True', reason: 'NativeEnforcement', message: p.message };
    case 'apply-failed':
      return { type: PROGRAMMED, status: 'False', reason: 'ApplyFailed', message: p.message };
    case 'conflict':
      return { type: PROGRAMMED, status: 'False', reason: 'Conflict', message: p.message };
  }
}

function exact(input: ConditionInput): Draft {
  // Findings that change no verdict (a nodes peer selecting no node yet, a CNI's resync on
  // change) do not make the policy inexact, but an admin should still read them.
  const notes = input.findings.filter((f) => f.effect === 'none');
  const withNotes = (d: Draft): Draft => (notes.length === 0 ? d : { ...d, message: `${d.message} Note: ${list(notes.map(describeFinding))}` });
  if (input.program.kind === 'native-enforcement') {
    // The findings are the CNI's own departures from the API, as measured (src/translate/native.ts).
    const departures = input.findings.filter((f) => f.effect !== 'none');
    if (departures.length === 0) return withNotes({ type: EXACT, status: 'True', reason: 'NativeEnforcement', message: 'The CNI enforces this policy itself; no departure measured for this CNI applies to it.' });
    return withNotes({ type: EXACT, status: 'False', reason: 'NativeDeviation', message: list(departures.map(describeFinding)) });
  }
  if (input.program.kind !== 'programmed') {
    return { type: EXACT, status: 'Unknown', reason: 'NotProgrammed', message: 'The policy is not programmed.' };
  }
  const approximations = input.findings.filter((f) => f.effect !== 'none');
  if (approximations.length === 0) return withNotes({ type: EXACT, status: 'True', reason: 'Exact', message: 'The backend enforces exactly this policy.' });
  return withNotes({ type: EXACT, status: 'False', reason: 'Approximated', message: list(approximations.map(describeFinding)) });
}

/**
 * The CNP's conditions, keeping lastTransitionTime from `previous` when a
 * condition's status did not change (metav1.Condition semantics).
 */
export function computeConditions(input: ConditionInput, previous: readonly (Condition | KeptCondition)[], now: string): Condition[] {
  return [accepted(input), programmed(input.program), exact(input)].map((draft) => {
    const old = previous.find((c) => c.type === draft.type);
    return {
      type: draft.type,
      status: draft.status,
      observedGeneration: input.generation,
      lastTransitionTime: old !== undefined && old.status === draft.status ? old.lastTransitionTime : now,
      reason: draft.reason,
      message: clip(draft.message),
    };
  });
}

/**
 * A condition as the operator remembers it: its message as a digest. Messages (every
 * approximation, every shadowed rule) are the bulk of a status, and are only ever compared.
 */
export interface KeptCondition extends Omit<Condition, 'message'> {
  readonly messageDigest: string;
}

export function keep(c: Condition | KeptCondition): KeptCondition {
  if ('messageDigest' in c) return c;
  // Written out rather than spread from a rest: V8 gave each object made that way a map of its
  // own (30,000 of them with 5,000 CNPs), which every garbage collection traces.
  // Shared: most CNPs carry the same reasons and messages, and timestamps of the same second.
  const s = sharedStrings;
  return { type: s.share(c.type), status: c.status, observedGeneration: c.observedGeneration, lastTransitionTime: s.share(c.lastTransitionTime), reason: s.share(c.reason), messageDigest: s.share(digest(c.message)) };
}

/** Whether writing `next` would change anything a reader sees. */
export function conditionsEqual(a: readonly (Condition | KeptCondition)[], b: readonly (Condition | KeptCondition)[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((raw) => {
    const c = keep(raw);
    const found = b.find((x) => x.type === c.type);
    if (found === undefined) return false;
    const o = keep(found);
    return (
      o.status === c.status &&
      o.reason === c.reason &&
      o.messageDigest === c.messageDigest &&
      o.observedGeneration === c.observedGeneration &&
      o.lastTransitionTime === c.lastTransitionTime
    );
  });
}

/** Rule analysis as the Accepted condition words it (shared with `validate`, which prints the same). */
export { analysisWarnings } from '../semantics/analysis-warnings.js';
