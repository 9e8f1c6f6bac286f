#!/usr/bin/env bash
# Build plotly.js 4.1.1 with only the dashboard's trace types, minified, into the path given.
#   scripts/plotly-bundle/build.sh OUT.min.js [--traces a,b,c | --all] [--calendars]
# Needs node + npm and the npm registry (or a warm npm cache); versions are pinned by package-lock.json.
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "usage: $0 OUT.min.js [--traces a,b,c | --all] [--calendars]" >&2
    exit 2
fi
out="$(realpath -m "$1")"
shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$(dirname "$out")"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
node build.mjs "$out" "$@"
