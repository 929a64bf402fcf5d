# Updraft developer entry points. `make help` lists them.
SHELL := /bin/bash
PY := .venv/bin/python
CLUSTER := hack/cluster

.PHONY: help setup test unit cluster-up cluster-down cluster-kubeconfig cluster-env cluster-probe-image \
        images deploy e2e kind-up binaries demo helm-check bench bench-peers kwok-up kwok-down chaos

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

setup: ## install system packages and the Python venv (.venv) a fresh machine lacks
	@bash hack/setup.sh

demo: setup ## (after set-up) cluster, images, chart, examples/01-hello to SUCCESS, where to watch it, a console launch URL
	@bash hack/demo.sh

test: setup ## THE test command (after set-up): local cluster up, images, deploy, then every test tier
	@bash hack/test.sh

unit: ## fast tests only (no cluster), after the type check
	@.venv/bin/mypy
	@$(PY) -m pytest -q tests/unit

binaries: ## build the cluster's Kubernetes/etcd/CoreDNS/Helm binaries (cached)
	@bash $(CLUSTER)/build-binaries.sh

cluster-up: ## start (or reuse) the local single-node cluster
	@QUIET=1 bash $(CLUSTER)/up.sh

cluster-down: ## stop the local cluster and free its ports (state kept; PURGE=1 removes it)
	@QUIET=1 bash $(CLUSTER)/down.sh $(if $(PURGE),--purge)

cluster-kubeconfig: ## print the admin kubeconfig path (last line)
	@bash $(CLUSTER)/kubeconfig.sh

cluster-env: ## print exports for kubectl/helm on PATH and KUBECONFIG: eval "$$(make -s cluster-env)"
	@bash $(CLUSTER)/env.sh

cluster-probe-image: ## print the name of a small image present on the node
	@bash $(CLUSTER)/probe-image.sh

images: ## build the operator and runner images and load them into the node
	@QUIET=1 bash $(CLUSTER)/images.sh

deploy: ## install (or upgrade) the Helm chart on the local cluster
	@QUIET=1 bash $(CLUSTER)/deploy.sh

e2e: cluster-up images deploy ## end-to-end tests against the local cluster
	@UPDRAFT_KUBECONFIG=$$(bash $(CLUSTER)/kubeconfig.sh | tail -1) $(PY) -m pytest -q -m e2e tests/e2e

bench: cluster-up images ## capacity on KWOK pods (runs/min, latency, drain, RSS) -> bench/out/bench.json; ARGS=--smoke
	@$(PY) bench/capacity.py $(ARGS)

chaos: cluster-up ## the fault suite's tier 2 on KWOK pods (issue 15): >=300 runs under kills, restarts, pod faults; ARGS=--seed N
	@$(PY) tests/chaos/driver.py --profile full $(ARGS)

bench-peers: cluster-up images ## Updraft beside Argo Workflows, real pods (builds Argo once: slow cold) -> bench/out/peers.json; ARGS=--runs 3
	@$(PY) bench/peers/run.py $(ARGS)

kwok-up: ## two fake nodes (kwok-node-0, kwok-node-1) whose task pods KWOK simulates; kwok built from the Go module proxy
	@bash $(CLUSTER)/kwok.sh up

kwok-down: ## remove the fake nodes and stop KWOK
	@bash $(CLUSTER)/kwok.sh down

helm-check: ## helm lint and helm template over the chart's value scenarios
	@bash hack/helm-check.sh

kind-up: ## (needs Docker) a kind cluster with the same images and chart
	@bash hack/kind/up.sh
