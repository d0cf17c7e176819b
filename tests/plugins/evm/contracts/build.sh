#!/usr/bin/env bash
# Rebuild TestToken.json from TestToken.sol with solc-js (the npm `solc` package, offline):
#   npm install --prefix .tools solc && tests/plugins/evm/contracts/build.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
node - "$here" "$root/.tools/node_modules/solc" <<'JS'
const [dir, solcPath] = process.argv.slice(2);
const fs = require("fs");
const solc = require(solcPath);
const source = fs.readFileSync(`${dir}/TestToken.sol`, "utf8");
const input = {
  language: "Solidity",
  sources: { "TestToken.sol": { content: source } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "paris",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
for (const e of out.errors || []) { if (e.severity === "error") { console.error(e.formattedMessage); process.exit(1); } }
const c = out.contracts["TestToken.sol"].TestToken;
const result = {
  compiler: `solc-js ${solc.version()}`,
  settings: input.settings,
  abi: c.abi,
  bytecode: "0x" + c.evm.bytecode.object,
  deployedBytecode: "0x" + c.evm.deployedBytecode.object,
  methodIdentifiers: c.evm.methodIdentifiers,
};
fs.writeFileSync(`${dir}/TestToken.json`, JSON.stringify(result, null, 1) + "\n");
console.log(`compiled with ${result.compiler}`);
JS
