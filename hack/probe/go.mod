module github.com/cnp-operator/cnp-operator/hack/probe

go 1.22
