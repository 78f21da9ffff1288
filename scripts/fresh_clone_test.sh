#!/usr/bin/env bash
# Fresh-machine set-up time: a fresh clone with an empty pip cache and empty llama.cpp wheel/sdist caches, then
# `make install`, `make venv-gptq` and `make test` (what CI runs), each timed. Usage:
#   bash scripts/fresh_clone_test.sh [REPO (default: this checkout)] [WORKDIR (default: /tmp/fresh)]
# Needs the package index (PyPI or a mirror); writes WORKDIR/{install,gptq,test}.log. docs/cost-tooling.md has
# the figures it gave.
set -u
REPO=${1:-$(cd "$(dirname "$0")/.." && pwd)}
W=${2:-/tmp/fresh}
rm -rf "$W" && mkdir -p "$W"
cd "$W" && git clone -q "$REPO" costlab && cd costlab
git log --oneline -1
export PIP_NO_CACHE_DIR=1
M="WHEELS=$W/wheels SDIST_DIR=$W/sdist"
t0=$(date +%s); echo "start $(date -u +%T)"
/usr/bin/time -f "install: wall %e s, user %U s, sys %S s, maxrss %M KB" make install $M > "$W/install.log" 2>&1
echo "install rc $?"; t1=$(date +%s); echo "install done $(date -u +%T) ($((t1-t0)) s)"
/usr/bin/time -f "venv-gptq: wall %e s, user %U s, sys %S s" make venv-gptq $M > "$W/gptq.log" 2>&1
echo "gptq rc $?"; t2=$(date +%s); echo "venv-gptq done $(date -u +%T) ($((t2-t1)) s)"
/usr/bin/time -f "make test: wall %e s, user %U s, sys %S s" make test $M > "$W/test.log" 2>&1
echo "test rc $?"; t3=$(date +%s); echo "test done $(date -u +%T) ($((t3-t2)) s); total $((t3-t0)) s"
tail -1 "$W/install.log" "$W/gptq.log"; tail -3 "$W/test.log"
