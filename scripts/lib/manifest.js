// Builds deployments/<chain-id>.json from a forge broadcast file: each contract's address and the block of the
// receipt that created it, plus the earliest of those blocks (where an indexer starts).
'use strict';
const fs = require('node:fs');

const run = JSON.parse(fs.readFileSync(process.env.BROADCAST, 'utf8'));
const blockOf = new Map(run.receipts.map((r) => [r.transactionHash, Number(BigInt(r.blockNumber))]));
const contracts = {};
for (const tx of run.transactions) {
  if (tx.transactionType !== 'CREATE') continue;
  // The timelock is deployed as AccordTimelock (a TimelockController with a minimum delay); the manifest keeps
  // the TimelockController key.
  if (tx.contractName === 'AccordTimelock') tx.contractName = 'TimelockController';
  const block = blockOf.get(tx.hash);
  if (block === undefined) throw new Error(`no receipt for ${tx.contractName} (${tx.hash})`);
  contracts[tx.contractName] = { address: tx.contractAddress, deployBlock: block };
}
for (const name of ['AccordToken', 'TimelockController', 'AccordGovernor', 'WorkerRegistry', 'JobManager']) {
  if (!contracts[name]) throw new Error(`broadcast has no ${name} deployment`);
}
const manifest = {
  chainId: Number(process.env.CHAIN_ID),
  deployer: run.transactions[0].transaction.from,
  deployBlock: Math.min(...Object.values(contracts).map((c) => c.deployBlock)),
  contracts,
};
fs.writeFileSync(process.env.OUT, JSON.stringify(manifest, null, 2) + '\n');
