//go:build tools

// Package tools pins the etcd server this module builds; it lives apart from the
// Kubernetes module so its dependency versions cannot disturb the API server's.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
