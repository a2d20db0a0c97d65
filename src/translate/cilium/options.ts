/** Options of the Cilium translation. */
export interface CiliumOptions {
  /** Upper bound on the number of generated rules (all policies together). */
  readonly maxRules?: number;
}
