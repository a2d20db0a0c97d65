// Lists that kept results hold for as long as they are kept (tens of thousands of compile steps
// with thousands of CNPs): every garbage collection visits each of them and every slot of each.

/** The one empty list that kept results share when they have nothing in a list. Frozen, so that nothing can add to it. */
export const NONE: readonly never[] = Object.freeze([]);

/** The list itself, or the shared empty one. */
export function orNone<T>(list: readonly T[]): readonly T[] {
  return list.length === 0 ? NONE : list;
}

/**
 * A list to keep, in an array of its own length (or the shared empty one): an array built by
 * pushing has room for about 16 more, which a kept one would carry all along.
 */
export function compact<T>(list: readonly T[]): readonly T[] {
  return list.length === 0 ? NONE : list.slice();
}
