#!/usr/bin/env node
// Builds the deployment manifest of an IndexLoad run (contracts/script/IndexLoad.s.sol) from phase 1's run file
// (scripts/lib/replay-txs.js --out, or a forge broadcast file: same shape), in exactly the format of
// deployments/<chain-id>.json (the five protocol contracts, nothing else: the Rust loader denies unknown fields),
// plus a sidecar listing the load's actors.
//
// Usage: BROADCAST=run.json CHAIN_ID=31337 OUT=manifest.json [OUT_LOAD=load.json COORDINATOR=0x… ARBITER=0x…] \
//          node scripts/lib/load-manifest.js
// Deploy blocks come from the receipts' own contractAddress, never from pairing transactions with hashes (forge's
// broadcast file pairs them wrongly when it sends concurrently).
'use strict';
const fs = require('node:fs');

const run = JSON.parse(fs.readFileSync(process.env.BROADCAST, 'utf8'));
const blockOf = new Map();
for (const r of run.receipts) {
  if (r.contractAddress) blockOf.set(r.contractAddress.toLowerCase(), Number(BigInt(r.blockNumber)));
}
const protocol = ['AccordToken', 'TimelockController', 'AccordGovernor', 'WorkerRegistry', 'JobManager'];
const contracts = {};
const actors = {};
let deployer;
for (const tx of run.transactions) {
  if (tx.transactionType !== 'CREATE') continue;
  // The timelock is deployed as AccordTimelock (a TimelockController with a minimum delay); the manifest keeps
  // the TimelockController key.
  if (tx.contractName === 'AccordTimelock') tx.contractName = 'TimelockController';
  const address = tx.contractAddress.toLowerCase();
  const block = blockOf.get(address);
  if (block === undefined) throw new Error(`no receipt creates ${tx.contractName} at ${address}`);
  if (protocol.includes(tx.contractName)) {
    contracts[tx.contractName] = { address, deployBlock: block };
    if (tx.contractName === 'AccordToken') deployer = tx.transaction.from.toLowerCase();
  } else {
    (actors[tx.contractName] = actors[tx.contractName] || []).push(address);
  }
}
for (const name of protocol) if (!contracts[name]) throw new Error(`broadcast has no ${name} deployment`);
const ordered = Object.fromEntries(protocol.map((n) => [n, contracts[n]]));
const manifest = {
  chainId: Number(process.env.CHAIN_ID),
  deployer,
  deployBlock: Math.min(...Object.values(contracts).map((c) => c.deployBlock)),
  contracts: ordered,
};
fs.writeFileSync(process.env.OUT, JSON.stringify(manifest, null, 2) + '\n');
if (process.env.OUT_LOAD) {
  const ret = run.returns || {};
  const val = (k) => (ret[k] ? ret[k].value : undefined);
  const sidecar = {
    note: 'Benchmark-only actors of contracts/script/IndexLoadActors.sol; the jobs\' clients and workers are these contracts.',
    firstJobId: val('firstJobId') !== undefined ? Number(val('firstJobId')) : undefined,
    lastJobIdAfterPhase1: val('lastJobId') !== undefined ? Number(val('lastJobId')) : undefined,
    clients: actors.LoadClient || [],
    workers: actors.LoadWorker || [],
    coordinator: (process.env.COORDINATOR || '').toLowerCase() || undefined,
    arbiter: (process.env.ARBITER || '').toLowerCase() || undefined,
    fleet: (actors.LoadFleet || [])[0],
  };
  fs.writeFileSync(process.env.OUT_LOAD, JSON.stringify(sidecar, null, 2) + '\n');
}
