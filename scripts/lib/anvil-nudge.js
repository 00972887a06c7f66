#!/usr/bin/env node
// Keeps an automining anvil from stalling under a burst of transactions. anvil mines one block per arriving
// transaction; when that block is full, the transactions left over stay pending until the next one arrives. forge,
// which waits for their receipts before sending more, then waits forever (seen with the default 30M block gas
// limit). This polls txpool_status every --interval ms and calls evm_mine when transactions have stayed pending
// across two polls with no new block. It runs until killed (scripts/bench-load-events starts and stops it).
//
// Usage: node scripts/lib/anvil-nudge.js --rpc-url URL [--interval MS]
'use strict';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const url = opt('--rpc-url', process.env.ACCORD_RPC_URL || 'http://127.0.0.1:8545');
const interval = Number(opt('--interval', '250'));

let id = 1;
async function rpc(method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: id++, method, params }),
  });
  const msg = await res.json();
  if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
  return msg.result;
}

let nudges = 0;
let stalled = 0;
let lastBlock = null;
process.on('SIGTERM', () => {
  if (nudges) console.error(`anvil-nudge: mined ${nudges} block(s) by hand`);
  process.exit(0);
});

async function tick() {
  try {
    const [status, block] = await Promise.all([rpc('txpool_status'), rpc('eth_blockNumber')]);
    const pending = Number(BigInt(status.pending));
    stalled = pending > 0 && block === lastBlock ? stalled + 1 : 0;
    lastBlock = block;
    if (stalled >= 2) {
      await rpc('evm_mine');
      nudges++;
      stalled = 0;
    }
  } catch {
    // anvil busy or gone: try again next tick; the caller kills this process when done.
  }
  setTimeout(tick, interval);
}
tick();
