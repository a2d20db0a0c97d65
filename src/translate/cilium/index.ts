// The Cilium backend: compiles ordered ClusterNetworkPolicy semantics into
// CiliumClusterwideNetworkPolicies (Cilium's deny-wins, allow-union model).
export { translateCilium } from './translate.js';
export type { CiliumAgent, CiliumOptions, CidrMatchMode } from './options.js';
export type { CiliumMinor } from './label-filter.js';
export { agentFromCiliumConfig, ciliumMinor, describeAgent, UNKNOWN_AGENT } from './agent.js';
