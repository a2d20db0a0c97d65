export { CalicoModel, calicoVerdict, type CalicoModelOptions, type ModelDirection, type ModelResult } from './felix.js';
export { calicoObjectProblems, tierFromPolicyName, type CalicoVersion } from './validate.js';
export { evaluateSelector, parseCalicoSelector, rewriteNamespaceSelector, SelectorParseError, type SelectorNode } from './selector.js';
