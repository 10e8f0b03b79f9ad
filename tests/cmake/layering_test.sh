#!/usr/bin/env bash
# The layering check (cmake/CheckLayering.cmake) on small trees of its own: it passes a tree that
# keeps the rules and fails, naming the file, each include the rules forbid.
#   tests/cmake/layering_test.sh <repository root>
set -euo pipefail
root=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0

# A tree with every module, each including only what it may.
make_tree() {
  rm -rf "$work/tree"
  mkdir -p "$work/tree/cmake"
  cp "$root/cmake/CheckLayering.cmake" "$root/cmake/PublicHeaders.cmake" "$work/tree/cmake/"
  for m in storage query ingest ml http tools; do mkdir -p "$work/tree/$m"; done
  echo '#include "storage/engine.h"' >"$work/tree/storage/a.cc"
  echo '#include "storage/storage.h"' >"$work/tree/query/a.cc"
  printf '#include "query/query.h"\n#include "storage/sync.h"\n' >"$work/tree/ingest/a.cc"
  echo '#include "query/query.h"' >"$work/tree/ml/a.cc"
  printf '#include "ml/ml.h"\n#include "http/api.h"\n' >"$work/tree/http/a.cc"
  printf '#include "http/http.h"\n#include "tools/config.h"\n' >"$work/tree/tools/a.cc"
}

check() {  # expectation (pass|fail) what
  local out rc=0
  checks=$((checks + 1))
  out=$(cmake -DROOT="$work/tree" -P "$work/tree/cmake/CheckLayering.cmake" 2>&1) || rc=$?
  if [[ $1 == pass && $rc -ne 0 ]]; then
    echo "FAIL: $2: the check refused a tree that keeps the rules: $out"; failures=$((failures + 1))
  elif [[ $1 == fail && $rc -eq 0 ]]; then
    echo "FAIL: $2: the check passed"; failures=$((failures + 1))
  elif [[ $1 == fail && $out != *"$3"* ]]; then
    echo "FAIL: $2: the error does not name $3: $out"; failures=$((failures + 1))
  else
    echo "ok: $2"
  fi
}

make_tree
check pass "a tree that keeps the rules"
make_tree
echo '#include "http/api.h"' >>"$work/tree/tools/a.cc"
check fail "tools/ including a private header of http/" "tools/a.cc"
make_tree
echo '#include "http/http.h"' >>"$work/tree/query/a.cc"
check fail "query/ depending on http/" "query/a.cc"
make_tree
echo '#include "storage/engine.h"' >>"$work/tree/ml/a.cc"
check fail "ml/ including storage's private engine header" "ml/a.cc"
make_tree
echo '#include "ingest/ingest.h"' >>"$work/tree/storage/a.cc"
check fail "storage/ depending on anything of ours" "storage/a.cc"

echo "$((checks - failures)) passed, $failures failed"
((failures == 0))
