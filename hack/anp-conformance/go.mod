// Transcribes the AdminNetworkPolicy conformance suite of sigs.k8s.io/network-policy-api v0.1.x
// (conformance/tests/*.go) into the digest in upstream/anp-conformance-v0.1.1. Standard library only.
module cnp-operator/hack/anp-conformance

go 1.22
