#!/usr/bin/env bash
# Installs, when missing, the local servers that the integration tests start and stop
# themselves on 127.0.0.1: anvil (a real Ethereum JSON-RPC node, from the npm registry,
# into the git-ignored .tools/) and PostgreSQL (the Debian package; the tests run
# initdb and pg_ctl from it in a temporary directory). Nothing is started here.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .tools/node_modules/.bin/anvil ] && ! command -v anvil >/dev/null 2>&1; then
  echo "installing anvil into .tools/"
  npm install --prefix .tools --no-save --no-audit --no-fund @foundry-rs/anvil >/dev/null
fi
{ [ -x .tools/node_modules/.bin/anvil ] && .tools/node_modules/.bin/anvil --version; } \
  || anvil --version

if ! command -v pg_config >/dev/null 2>&1; then
  echo "installing postgresql"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi
pg_config --version
