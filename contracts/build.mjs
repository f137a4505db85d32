// Compile pmrouter's contracts with the pinned solc-js (package.json) and write their artifacts.
//
//   node contracts/build.mjs            write the committed artifacts
//   node contracts/build.mjs OUT_DIR    write them under OUT_DIR instead (the test compares the two)
//
// Artifacts are committed so that neither the Lambda layer nor a test run needs the compiler; the test
// tests/unit/chain/test_artifacts.py recompiles and fails if a committed artifact differs from the source.
// ConditionalTokens is not compiled here: Polymarket runs Gnosis' contract, and its published build
// artifact (npm @gnosis.pm/conditional-tokens-contracts) is copied as it is.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const out = process.argv[2] ? process.argv[2] : root;

// source file (under contracts/) -> [contract name, artifact path (under the repo root)]
const CONTRACTS = {
  "ParsecFeeEscrow.sol": ["ParsecFeeEscrow", "layers/core/pmrouter/chain/artifacts/ParsecFeeEscrow.json"],
  "local/LocalUSDC.sol": ["LocalUSDC", "contracts/build/LocalUSDC.json"],
};

const input = {
  language: "Solidity",
  sources: Object.fromEntries(Object.keys(CONTRACTS).map((f) => [f, { content: readFileSync(join(here, f), "utf8") }])),
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    metadata: { bytecodeHash: "none" }, // bytecode independent of file paths and comments' metadata hash
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const result = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (result.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}

function write(path, artifact) {
  const target = join(out, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, JSON.stringify(artifact, null, 1) + "\n");
}

for (const [file, [name, path]] of Object.entries(CONTRACTS)) {
  const c = result.contracts[file][name];
  write(path, { contractName: name, compiler: `solc ${solc.version()}`, abi: c.abi, bytecode: "0x" + c.evm.bytecode.object });
}

const ctf = require("@gnosis.pm/conditional-tokens-contracts/build/contracts/ConditionalTokens.json");
write("contracts/build/ConditionalTokens.json", {
  contractName: "ConditionalTokens", compiler: `solc ${ctf.compiler.version}`, abi: ctf.abi, bytecode: ctf.bytecode,
});
// The layer needs only the interface to build calls against Polymarket's deployed contract.
write("layers/core/pmrouter/chain/artifacts/ConditionalTokens.abi.json", ctf.abi);
