// The Cilium backend: compiles ordered ClusterNetworkPolicy semantics into
// CiliumClusterwideNetworkPolicies (Cilium's deny-wins, allow-union model).
export { translateCilium } from './translate.js';
export type { CiliumOptions } from './options.js';
