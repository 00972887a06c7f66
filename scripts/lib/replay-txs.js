#!/usr/bin/env node
// Sends the transactions of a forge script dry run (`forge script … --rpc-url URL` without --broadcast) to an
// anvil, in order, in blocks of --txs-per-block transactions, and checks every receipt. This replaces
// `forge script --broadcast` for scripts/bench-load-events, for three reasons measured there:
//   - forge rewrites its whole broadcast file (every receipt with every log) after each receipt, so a run of a
//     few hundred transactions carrying 100k+ logs slows down quadratically (a 200k-event run did not finish);
//   - against an automining anvil with its default 30M block gas limit, forge's broadcast stalled for good in both
//     tries (transactions left pending in anvil's pool, and a gap of nonces forge never sent);
//   - blocks then hold whatever happened to arrive together (1 to 90 transactions), so the chain's block structure
//     changes from run to run. Here it is fixed: automine is switched off, each block is mined with evm_mine.
// The dry run executed the transactions in this order against this chain's state; sent in the same order they
// do the same. Transactions without a gas estimate (forge --skip-simulation) get the block gas limit, at most
// 100M; when a block cannot hold --txs-per-block of them, the rest go into the next blocks. anvil's impersonated
// accounts sign them, so no key is handled here.
//
// Usage: node scripts/lib/replay-txs.js --rpc-url URL --run FILE [--txs-per-block N] [--out FILE]
//   --run FILE          forge's dry-run file (broadcast/<script>/<chain>/dry-run/<sig>-latest.json)
//   --txs-per-block N   transactions per mined block (default 1)
//   --out FILE          write the run back with real hashes and a `receipts` array (blockNumber, status, gasUsed,
//                       contractAddress, logs count), the shape scripts/lib/load-manifest.js reads
// Prints one JSON line: transactions, blocks, logs, gasUsed, seconds. Exits 1 on the first failed transaction.
'use strict';
const fs = require('node:fs');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const url = opt('--rpc-url', process.env.ACCORD_RPC_URL || 'http://127.0.0.1:8545');
const runFile = opt('--run');
const perBlock = Math.max(1, Number(opt('--txs-per-block', '1')));
const outFile = opt('--out');
if (!runFile) {
  console.error('replay-txs: --run FILE is required');
  process.exit(2);
}

let id = 1;
async function rpc(method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: id++, method, params }),
  });
  const msg = JSON.parse(await res.text());
  if (msg.error) throw new Error(`${method}: ${msg.error.message || JSON.stringify(msg.error)}${msg.error.data ? ` (${JSON.stringify(msg.error.data)})` : ''}`);
  return msg.result;
}

const label = (t) => (t.function || `${t.transactionType} ${t.contractName || ''}`).split('(')[0].trim();

async function main() {
  const run = JSON.parse(fs.readFileSync(runFile, 'utf8'));
  const txs = run.transactions;
  const t0 = process.hrtime.bigint();
  const senders = [...new Set(txs.map((t) => t.transaction.from.toLowerCase()))];
  for (const s of senders) await rpc('anvil_impersonateAccount', [s]);
  const automine = await rpc('anvil_getAutomine');
  let restored = false;
  const restore = async () => {
    if (restored) return;
    restored = true;
    if (automine) await rpc('evm_setAutomine', [true]).catch(() => {});
    for (const s of senders) await rpc('anvil_stopImpersonatingAccount', [s]).catch(() => {});
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => restore().finally(() => process.exit(1)));
  await rpc('evm_setAutomine', [false]);

  // A dry run with --skip-simulation carries no gas estimates: give each transaction the block gas limit (at most
  // 100M). Unused gas costs nothing; when fewer transactions than asked fit a block, the rest go in the next ones.
  const blockGasLimit = BigInt((await rpc('eth_getBlockByNumber', ['latest', false])).gasLimit);
  const defaultGas = '0x' + (blockGasLimit < 100000000n ? blockGasLimit : 100000000n).toString(16);

  const receipts = [];
  let blocks = 0;
  let logs = 0;
  let gasUsed = 0n;
  try {
    for (let i = 0; i < txs.length; i += perBlock) {
      const group = txs.slice(i, i + perBlock);
      const hashes = [];
      for (const t of group) {
        const tx = t.transaction;
        const req = { from: tx.from, data: tx.input, value: tx.value || '0x0', nonce: tx.nonce };
        if (tx.to) req.to = tx.to;
        req.gas = tx.gas || defaultGas;
        hashes.push(await rpc('eth_sendTransaction', [req]));
      }
      const mined = new Array(group.length).fill(null);
      for (let tries = 0; mined.includes(null); tries++) {
        if (tries > group.length + 2) {
          const k = mined.indexOf(null);
          throw new Error(`transaction ${i + k} (${label(group[k])}) is not mined after ${tries} blocks`);
        }
        await rpc('evm_mine');
        blocks++;
        for (let k = 0; k < group.length; k++) {
          if (!mined[k]) mined[k] = await rpc('eth_getTransactionReceipt', [hashes[k]]);
        }
      }
      for (let k = 0; k < group.length; k++) {
        const r = mined[k];
        if (r.status !== '0x1') {
          throw new Error(`transaction ${i + k} (${label(group[k])}, nonce ${Number(group[k].transaction.nonce)}) reverted in block ${Number(r.blockNumber)}`);
        }
        group[k].hash = hashes[k];
        logs += r.logs.length;
        gasUsed += BigInt(r.gasUsed);
        receipts.push({
          transactionHash: hashes[k],
          blockNumber: r.blockNumber,
          status: r.status,
          gasUsed: r.gasUsed,
          contractAddress: r.contractAddress,
          logs: r.logs.length,
        });
      }
    }
  } finally {
    await restore();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (outFile) fs.writeFileSync(outFile, JSON.stringify({ ...run, receipts }, null, 1) + '\n');
  console.log(JSON.stringify({ transactions: txs.length, blocks, logs, gasUsed: Number(gasUsed), seconds: Number(seconds.toFixed(2)) }));
}

main().catch((e) => {
  console.error(`replay-txs: ${e.message}`);
  process.exit(1);
});
