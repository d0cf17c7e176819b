#!/usr/bin/env bash
# Installs, when missing, the local servers that the integration tests start and stop
# themselves on 127.0.0.1: anvil (a real Ethereum JSON-RPC node, from the npm registry,
# into the git-ignored .tools/), PostgreSQL (the Debian package; the tests run
# initdb and pg_ctl from it in a temporary directory) and Redis (the Debian package
# redis-server; the shared rate budget's tests start their own on a free port).
# Nothing is started here.
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

if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
  # the package starts a system-wide server; the tests start their own
  { $sudo systemctl stop redis-server || $sudo service redis-server stop; } >/dev/null 2>&1 || true
fi
redis-server --version
