import type { Operator, Requirement } from '../../api/model.js';

// Label-set algebra for Kubernetes label selectors, closed under intersection
// and difference. A selector is a conjunction of per-key constraints; each
// constraint is a subset of {absent} ∪ {all strings} of one of two shapes:
//
//   in    values:  the label is present with one of `values`  (+ absent when `absent`)
//   notIn values:  the label is present with none of `values` (+ absent when `absent`)
//
// The four Kubernetes operators are exactly the expressible constraints:
//   In V          = {absent: false, in V}
//   NotIn V       = {absent: true,  notIn V}     (NotIn matches objects without the key)
//   Exists        = {absent: false, notIn ∅}
//   DoesNotExist  = {absent: true,  in ∅}
// plus the conjunction Exists ∧ NotIn V = {absent: false, notIn V}. The only shape
// that is not a conjunction of requirements, {absent: true, in V≠∅}, is never
// stored: complements that would produce it are split into two pieces.

export interface KeyConstraint {
  readonly absent: boolean;
  readonly notIn: boolean;
  /** Sorted, de-duplicated. */
  readonly values: readonly string[];
}

/** A conjunction of constraints, sorted by key; keys without a constraint are unconstrained. */
export type LabelCube = readonly (readonly [string, KeyConstraint])[];

export const UNIVERSAL_CUBE: LabelCube = [];

const EXISTS: KeyConstraint = { absent: false, notIn: true, values: [] };

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

export function constraintOf(operator: Operator, values: readonly string[]): KeyConstraint {
  switch (operator) {
    case 'In':
      return { absent: false, notIn: false, values: sortedUnique(values) };
    case 'NotIn':
      return { absent: true, notIn: true, values: sortedUnique(values) };
    case 'Exists':
      return EXISTS;
    case 'DoesNotExist':
      return { absent: true, notIn: false, values: [] };
  }
}

function isEmptyConstraint(c: KeyConstraint): boolean {
  return !c.absent && !c.notIn && c.values.length === 0;
}

function isUniversalConstraint(c: KeyConstraint): boolean {
  return c.absent && c.notIn && c.values.length === 0;
}

// Value lists are sorted and de-duplicated (code-unit order, as Array#sort and `<` agree on):
// set operations are merge walks. Lists grow long where many namespaces or tenants are
// subtracted one by one (NotIn with hundreds of values), so `includes` would be quadratic.

function intersectValues(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

function minusValues(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]! < x) j++;
    if (j >= b.length || b[j] !== x) out.push(x);
  }
  return out;
}

function unionValues(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else if (i >= a.length || b[j]! < a[i]!) out.push(b[j++]!);
    else {
      out.push(a[i++]!);
      j++;
    }
  }
  return out;
}

/** Whether the sorted lists share a value. */
function shareValue(a: readonly string[], b: readonly string[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) return true;
    if (x < y) i++;
    else j++;
  }
  return false;
}

/** Whether the sorted list holds the value (binary search). */
function hasValue(values: readonly string[], value: string): boolean {
  let lo = 0;
  let hi = values.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = values[mid]!;
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** a ⊆ b, both sorted. */
function subsetOf(a: readonly string[], b: readonly string[]): boolean {
  if (a.length > b.length) return false;
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]! < x) j++;
    if (j >= b.length || b[j] !== x) return false;
    j++;
  }
  return true;
}

export function intersectConstraint(a: KeyConstraint, b: KeyConstraint): KeyConstraint {
  const absent = a.absent && b.absent;
  if (!a.notIn && !b.notIn) return { absent, notIn: false, values: intersectValues(a.values, b.values) };
  if (!a.notIn) return { absent, notIn: false, values: minusValues(a.values, b.values) };
  if (!b.notIn) return { absent, notIn: false, values: minusValues(b.values, a.values) };
  return { absent, notIn: true, values: unionValues(a.values, b.values) };
}

/** a ⊇ b */
export function constraintContains(a: KeyConstraint, b: KeyConstraint): boolean {
  if (b.absent && !a.absent) return false;
  if (!b.notIn) {
    // b's present values are the finite set b.values.
    return a.notIn ? !shareValue(a.values, b.values) : subsetOf(b.values, a.values);
  }
  // b's present values are cofinite: only a cofinite a with fewer exclusions contains it.
  return a.notIn && subsetOf(a.values, b.values);
}

/** The complement of a constraint, as one or two expressible constraints. */
export function complementConstraint(c: KeyConstraint): KeyConstraint[] {
  if (isUniversalConstraint(c)) return [];
  const flipped: KeyConstraint = { absent: !c.absent, notIn: !c.notIn, values: c.values };
  if (flipped.absent && !flipped.notIn && flipped.values.length > 0) {
    // absent ∪ In V: DoesNotExist, or In V.
    return [
      { absent: true, notIn: false, values: [] },
      { absent: false, notIn: false, values: flipped.values },
    ];
  }
  return [flipped];
}

export function constraintMatches(c: KeyConstraint, value: string | undefined): boolean {
  if (value === undefined) return c.absent;
  return hasValue(c.values, value) !== c.notIn;
}

/** Union of two constraints on one key when it is a single expressible constraint. */
export function unionConstraint(a: KeyConstraint, b: KeyConstraint): KeyConstraint | undefined {
  const absent = a.absent || b.absent;
  let result: KeyConstraint;
  if (!a.notIn && !b.notIn) result = { absent, notIn: false, values: unionValues(a.values, b.values) };
  else if (a.notIn && b.notIn) result = { absent, notIn: true, values: intersectValues(a.values, b.values) };
  else {
    const inc = a.notIn ? b : a;
    const exc = a.notIn ? a : b;
    result = { absent, notIn: true, values: minusValues(exc.values, inc.values) };
  }
  if (result.absent && !result.notIn && result.values.length > 0) return undefined;
  return result;
}

function get(cube: LabelCube, key: string): KeyConstraint | undefined {
  for (const [k, c] of cube) if (k === key) return c;
  return undefined;
}

function withKey(cube: LabelCube, key: string, constraint: KeyConstraint): LabelCube {
  const out = cube.filter(([k]) => k !== key);
  if (!isUniversalConstraint(constraint)) out.push([key, constraint]);
  return out.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

/** Builds a cube from requirements, with keys renamed; undefined when contradictory. */
export function cubeOf(requirements: readonly Requirement[], key: (k: string) => string = (k) => k): LabelCube | undefined {
  let cube: LabelCube = UNIVERSAL_CUBE;
  for (const r of requirements) {
    const next = intersectCube(cube, [[key(r.key), constraintOf(r.operator, r.values)]]);
    if (next === undefined) return undefined;
    cube = next;
  }
  return cube;
}

export function intersectCube(a: LabelCube, b: LabelCube): LabelCube | undefined {
  let out: LabelCube = a;
  for (const [k, cb] of b) {
    const ca = get(out, k);
    const c = ca === undefined ? cb : intersectConstraint(ca, cb);
    if (isEmptyConstraint(c)) return undefined;
    out = withKey(out, k, c);
  }
  return out;
}

/** a ⊇ b (both key lists sorted: a merge walk). */
export function cubeContains(a: LabelCube, b: LabelCube): boolean {
  let j = 0;
  for (const [ka, ca] of a) {
    while (j < b.length && b[j]![0] < ka) j++;
    const entry = b[j];
    if (entry === undefined || entry[0] !== ka) {
      if (!isUniversalConstraint(ca)) return false;
    } else if (!constraintContains(ca, entry[1])) return false;
  }
  return true;
}

/** Whether no value (or absence) satisfies both constraints. */
function constraintsDisjoint(a: KeyConstraint, b: KeyConstraint): boolean {
  if (a.absent && b.absent) return false;
  if (a.notIn && b.notIn) return false;
  if (!a.notIn && !b.notIn) return !shareValue(a.values, b.values);
  const inc = a.notIn ? b : a;
  const exc = a.notIn ? a : b;
  return subsetOf(inc.values, exc.values);
}

/** Whether the cubes share no label map (both key lists are sorted: a merge walk, no allocation). */
export function cubesDisjoint(a: LabelCube, b: LabelCube): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [ka, ca] = a[i]!;
    const [kb, cb] = b[j]!;
    if (ka === kb) {
      if (constraintsDisjoint(ca, cb)) return true;
      i++;
      j++;
    } else if (ka < kb) i++;
    else j++;
  }
  return false;
}

/**
 * a \ b as disjoint cubes: the k-th piece satisfies b's first k-1 constraints and
 * violates the k-th.
 */
export function subtractCube(a: LabelCube, b: LabelCube): LabelCube[] {
  if (cubesDisjoint(a, b)) return [a];
  const pieces: LabelCube[] = [];
  let acc: LabelCube = a;
  for (const [k, cb] of b) {
    const ca = get(acc, k);
    if (ca !== undefined && constraintContains(cb, ca)) continue;
    for (const comp of complementConstraint(cb)) {
      const c = ca === undefined ? comp : intersectConstraint(ca, comp);
      if (!isEmptyConstraint(c)) pieces.push(withKey(acc, k, c));
    }
    acc = withKey(acc, k, ca === undefined ? cb : intersectConstraint(ca, cb));
  }
  return pieces;
}

export function cubeMatches(cube: LabelCube, labels: Readonly<Record<string, string>>): boolean {
  return cube.every(([k, c]) => constraintMatches(c, Object.prototype.hasOwnProperty.call(labels, k) ? labels[k] : undefined));
}

/**
 * Merges two cubes whose union is one cube: equal except on one key, where the union of
 * the two constraints is expressible. Undefined when they cannot be merged.
 */
export function mergeCubes(a: LabelCube, b: LabelCube): LabelCube | undefined {
  let differing: string | undefined;
  let ca: KeyConstraint | undefined;
  let cb: KeyConstraint | undefined;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ea = a[i];
    const eb = b[j];
    let key: string;
    let x: KeyConstraint | undefined;
    let y: KeyConstraint | undefined;
    if (eb === undefined || (ea !== undefined && ea[0] < eb[0])) {
      key = ea![0];
      x = ea![1];
      i++;
    } else if (ea === undefined || eb[0] < ea[0]) {
      key = eb[0];
      y = eb[1];
      j++;
    } else {
      key = ea[0];
      x = ea[1];
      y = eb[1];
      i++;
      j++;
      if (sameConstraint(x, y)) continue;
    }
    if (differing !== undefined) return undefined;
    differing = key;
    ca = x;
    cb = y;
  }
  if (differing === undefined) return a;
  const universal: KeyConstraint = { absent: true, notIn: true, values: [] };
  const u = unionConstraint(ca ?? universal, cb ?? universal);
  return u === undefined ? undefined : withKey(a, differing, u);
}

function sameConstraint(a: KeyConstraint, b: KeyConstraint): boolean {
  return a.absent === b.absent && a.notIn === b.notIn && a.values.length === b.values.length && a.values.every((v, i) => v === b.values[i]);
}

/** The requirements that express a cube (a conjunction), in key order. */
export function cubeRequirements(cube: LabelCube): Requirement[] {
  const out: Requirement[] = [];
  for (const [key, c] of cube) {
    if (!c.notIn) {
      if (c.absent) {
        if (c.values.length > 0) throw new Error(`internal: constraint on ${key} is not a conjunction`);
        out.push({ key, operator: 'DoesNotExist', values: [] });
      } else out.push({ key, operator: 'In', values: c.values });
    } else {
      if (!c.absent) out.push({ key, operator: 'Exists', values: [] });
      if (c.values.length > 0) out.push({ key, operator: 'NotIn', values: c.values });
    }
  }
  return out;
}

const keys = new WeakMap<LabelCube, string>();

export function cubeKey(cube: LabelCube): string {
  let k = keys.get(cube);
  if (k === undefined) {
    k = JSON.stringify(cube);
    keys.set(cube, k);
  }
  return k;
}
