import type { PodTally } from './pod-watch.js';

// What a compile step read from the cluster (pods, nodes, namespaces: everything but the
// policies themselves), as queries that can be asked again of another snapshot. A step whose
// queries all have the same answers in a new snapshot, given the same policy inputs, computes
// the same result there: that is what lets the incremental compiler reuse it.

/** Answers a query on a cluster; memoized per cluster by the query's key. */
export type Ask<C> = (cluster: C) => string;

/** For questions about pods: a tally of the pods of a cluster, to judge pod events by (see pod-watch.ts). */
export type Watch<C> = (cluster: C) => PodTally;

export class Reads<C> {
  private readonly queries = new Map<string, { readonly ask: Ask<C>; readonly watch: Watch<C> | undefined }>();

  /** `key` must name the query completely: equal keys, equal questions. */
  note(key: string, ask: Ask<C>, watch?: Watch<C>): void {
    if (!this.queries.has(key)) this.queries.set(key, { ask, watch });
  }

  has(key: string): boolean {
    return this.queries.has(key);
  }

  get size(): number {
    return this.queries.size;
  }

  entries(): IterableIterator<[string, { readonly ask: Ask<C>; readonly watch: Watch<C> | undefined }]> {
    return this.queries.entries();
  }
}

/** A query with the answer it had when the step ran. */
export interface Answered<C> {
  readonly key: string;
  readonly ask: Ask<C>;
  readonly answer: string;
  readonly watch?: Watch<C> | undefined;
}
