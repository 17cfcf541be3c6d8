#!/usr/bin/env bash
# Rebuilds the dashboard bundle in web/dist (committed, embedded by web.go).
# Installs the pinned npm packages first when node_modules is missing.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
	echo "web/build.sh: npm is missing (Debian: apt-get install nodejs npm)" >&2
	exit 1
fi
if [ ! -d node_modules ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
node build.mjs
