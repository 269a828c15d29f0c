# Thin targets: the work is in scripts/, playbooks/, molecule/ and tests/.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
SANDBOX := -i inventories/sandbox

.PHONY: deps testbed-deps sandbox sandbox-down lint test test-app test-molecule bench

deps:
	scripts/install-deps

testbed-deps:
	scripts/install-deps testbed

# Make the sandbox hosts, deploy everything onto them, verify, print the URLs.
sandbox: testbed-deps
	ansible-playbook $(SANDBOX) playbooks/sandbox.yml

sandbox-down: testbed-deps
	ansible-playbook $(SANDBOX) playbooks/testbed.yml -e testbed_state=absent

lint: deps
	ruff check app tests collections bench
	ruff format --check app tests collections bench
	yamllint --strict .
	ansible-lint

test-app: deps
	pytest tests/app

test-ops: deps
	pytest tests/ops

test-molecule: testbed-deps
	molecule test --all

test: lint test-ops test-app test-molecule

# The benchmarks on the sandbox (the deploy benchmark alone took 17 minutes on two cores);
# results in bench/results/, the report in bench/REPORT.md. BENCH="api workers" picks some.
bench: sandbox
	python -m bench.run $(BENCH)
	python -m bench.report
