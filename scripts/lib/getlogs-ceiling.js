#!/usr/bin/env node
// Raw eth_getLogs throughput probe: the ceiling an indexer's fetch path is compared to. It fetches every log of
// the deployed contracts from the manifest's deploy block to the head and only parses the JSON (no decoding, no
// database), then prints logs/s, total time, and how many logs of each event there are.
//
// Usage:
//   node scripts/lib/getlogs-ceiling.js --rpc-url URL --manifest FILE [options]
//
//   --rpc-url URL        JSON-RPC endpoint (default $ACCORD_RPC_URL or http://127.0.0.1:8545)
//   --manifest FILE      deployments/<chain-id>.json: the addresses filtered on and the first block
//   --from N / --to N    block range (default: the manifest's deployBlock .. the head at start)
//   --range N|auto       blocks per request. N: fixed ranges of N blocks. auto (default): start at 4 blocks and
//                        resize after every answer so one request returns about --target-logs logs
//   --target-logs N      auto mode's aim per request (default 5000)
//   --concurrency N      requests in flight at once (default 4). Ranges are handed out in block order from one
//                        cursor; each worker takes the next range as soon as its answer is parsed. Use 1 for the
//                        sequential figure an indexer fetching one range at a time should be compared to.
//   --json               print one JSON object instead of the table
//
// A request that fails (e.g. a provider's "too many results" error) is split in two and retried; the number of
// splits is reported. Nothing is written anywhere.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// ------------------------------------------------------------------ arguments

function parseArgs(argv) {
  const o = {
    rpcUrl: process.env.ACCORD_RPC_URL || 'http://127.0.0.1:8545',
    manifest: null,
    from: null,
    to: null,
    range: 'auto',
    targetLogs: 5000,
    concurrency: 4,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--rpc-url': o.rpcUrl = next(); break;
      case '--manifest': o.manifest = next(); break;
      case '--from': o.from = Number(next()); break;
      case '--to': o.to = Number(next()); break;
      case '--range': { const v = next(); o.range = v === 'auto' ? 'auto' : Number(v); break; }
      case '--target-logs': o.targetLogs = Number(next()); break;
      case '--concurrency': o.concurrency = Number(next()); break;
      case '--json': o.json = true; break;
      case '-h': case '--help': usage(0); break;
      default: console.error(`getlogs-ceiling: unknown argument '${a}'`); usage(2);
    }
  }
  if (!o.manifest) { console.error('getlogs-ceiling: --manifest is required'); usage(2); }
  if (o.range !== 'auto' && !(o.range >= 1)) throw new Error('--range must be a positive number or auto');
  if (!(o.concurrency >= 1)) throw new Error('--concurrency must be at least 1');
  return o;
}

function usage(code) {
  const lines = fs.readFileSync(__filename, 'utf8').split('\n').slice(1);
  const text = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')))
    .map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
  (code === 0 ? console.log : console.error)(text);
  process.exit(code);
}

// ------------------------------------------------------------------ keccak-256 (event topics from abi/)

const MASK = (1n << 64n) - 1n;
const RC = [
  0x0000000000000001n, 0x0000000000008082n, 0x800000000000808an, 0x8000000080008000n, 0x000000000000808bn,
  0x0000000080000001n, 0x8000000080008081n, 0x8000000000008009n, 0x000000000000008an, 0x0000000000000088n,
  0x0000000080008009n, 0x000000008000000an, 0x000000008000808bn, 0x800000000000008bn, 0x8000000000008089n,
  0x8000000000008003n, 0x8000000000008002n, 0x8000000000000080n, 0x000000000000800an, 0x800000008000000an,
  0x8000000080008081n, 0x8000000000008080n, 0x0000000080000001n, 0x8000000080008008n,
];
// Rotation offsets r[x][y].
const ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]];
const rotl = (v, n) => (n === 0 ? v : ((v << BigInt(n)) | (v >> BigInt(64 - n))) & MASK);

function keccakF(a) {
  const b = new Array(25);
  const c = new Array(5);
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (let y = 0; y < 25; y += 5) a[x + y] ^= d;
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], ROT[x][y]);
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) a[x + y] = b[x + y] ^ (~b[((x + 1) % 5) + y] & MASK & b[((x + 2) % 5) + y]);
    }
    a[0] ^= RC[round];
  }
}

function keccak256(text) {
  const rate = 136;
  const msg = Buffer.from(text, 'utf8');
  const padded = Buffer.alloc(Math.floor(msg.length / rate) * rate + rate);
  msg.copy(padded);
  padded[msg.length] ^= 0x01;
  padded[padded.length - 1] ^= 0x80;
  const a = new Array(25).fill(0n);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) a[i] ^= padded.readBigUInt64LE(off + 8 * i);
    keccakF(a);
  }
  const out = Buffer.alloc(32);
  for (let i = 0; i < 4; i++) out.writeBigUInt64LE(a[i], 8 * i);
  return '0x' + out.toString('hex');
}

function abiType(input) {
  if (!input.type.startsWith('tuple')) return input.type;
  return `(${input.components.map(abiType).join(',')})${input.type.slice(5)}`;
}

// topic0 -> event name, from every ABI in abi/ (the contracts the manifest names).
function eventNames() {
  const names = new Map();
  const dir = path.join(__dirname, '..', '..', 'abi');
  for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!file.endsWith('.json')) continue;
    const abi = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    for (const item of Array.isArray(abi) ? abi : abi.abi || []) {
      if (item.type !== 'event') continue;
      names.set(keccak256(`${item.name}(${item.inputs.map(abiType).join(',')})`), item.name);
    }
  }
  return names;
}

// ------------------------------------------------------------------ JSON-RPC

let nextId = 1;
async function rpc(url, method, params) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params });
  let res;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  } catch (e) {
    throw new Error(`${method} at ${url}: ${e.cause?.code || e.message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  const msg = JSON.parse(text);
  if (msg.error) throw new Error(`${method}: ${msg.error.message || JSON.stringify(msg.error)}`);
  return { result: msg.result, bytes: text.length };
}

const hex = (n) => '0x' + n.toString(16);

// ------------------------------------------------------------------ probe

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const manifest = JSON.parse(fs.readFileSync(o.manifest, 'utf8'));
  const addresses = Object.values(manifest.contracts).map((c) => c.address.toLowerCase());
  const nameOf = new Map(Object.entries(manifest.contracts).map(([n, c]) => [c.address.toLowerCase(), n]));
  const head = Number(BigInt((await rpc(o.rpcUrl, 'eth_blockNumber', [])).result));
  const from = o.from ?? manifest.deployBlock;
  const to = o.to ?? head;
  if (to < from) throw new Error(`empty range ${from}..${to}`);
  const topics = eventNames();

  let cursor = from;
  let size = o.range === 'auto' ? 4 : o.range;
  const stats = { logs: 0, bytes: 0, requests: 0, splits: 0, maxLogsPerRequest: 0, maxBlocksPerRequest: 0 };
  const byEvent = new Map();
  const byContract = new Map();
  const latencies = [];
  const perBlock = new Map();

  async function fetchRange(lo, hi) {
    const t0 = process.hrtime.bigint();
    let answer;
    try {
      answer = await rpc(o.rpcUrl, 'eth_getLogs', [{ fromBlock: hex(lo), toBlock: hex(hi), address: addresses }]);
    } catch (e) {
      if (lo === hi) throw e;
      stats.splits++;
      const mid = Math.floor((lo + hi) / 2);
      if (o.range === 'auto') size = Math.max(1, Math.floor(size / 2));
      return (await fetchRange(lo, mid)) + (await fetchRange(mid + 1, hi));
    }
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const logs = answer.result;
    stats.requests++;
    stats.bytes += answer.bytes;
    stats.logs += logs.length;
    stats.maxLogsPerRequest = Math.max(stats.maxLogsPerRequest, logs.length);
    stats.maxBlocksPerRequest = Math.max(stats.maxBlocksPerRequest, hi - lo + 1);
    for (const l of logs) {
      perBlock.set(l.blockNumber, (perBlock.get(l.blockNumber) || 0) + 1);
      const name = topics.get(l.topics[0]) || l.topics[0];
      byEvent.set(name, (byEvent.get(name) || 0) + 1);
      const c = nameOf.get(l.address.toLowerCase()) || l.address;
      byContract.set(c, (byContract.get(c) || 0) + 1);
    }
    return logs.length;
  }

  async function worker() {
    while (cursor <= to) {
      const lo = cursor;
      const hi = Math.min(to, lo + size - 1);
      cursor = hi + 1;
      const n = await fetchRange(lo, hi);
      if (o.range === 'auto') {
        // Shrink at once to the size that would have hit the target; grow at most 2x per answer (block density
        // varies a lot: anvil packs whatever arrived while it mined).
        const span = hi - lo + 1;
        const ideal = (o.targetLogs * span) / Math.max(n, 1);
        size = Math.max(1, Math.min(100000, Math.floor(n > o.targetLogs ? ideal : Math.min(2 * span, ideal))));
      }
    }
  }

  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

  latencies.sort((a, b) => a - b);
  const densities = [...perBlock.values()].sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
  const report = {
    rpcUrl: o.rpcUrl,
    fromBlock: from,
    toBlock: to,
    blocks: to - from + 1,
    range: o.range,
    targetLogs: o.range === 'auto' ? o.targetLogs : undefined,
    concurrency: o.concurrency,
    requests: stats.requests,
    splits: stats.splits,
    logs: stats.logs,
    seconds: Number(seconds.toFixed(3)),
    logsPerSecond: Math.round(stats.logs / seconds),
    megabytes: Number((stats.bytes / 1e6).toFixed(1)),
    avgLogsPerRequest: stats.requests ? Math.round(stats.logs / stats.requests) : 0,
    maxLogsPerRequest: stats.maxLogsPerRequest,
    blocksWithLogs: densities.length,
    logsPerBlock: {
      p50: densities.length ? densities[Math.floor(densities.length / 2)] : 0,
      max: densities.length ? densities[densities.length - 1] : 0,
    },
    requestMs: { p50: Math.round(pct(0.5)), p90: Math.round(pct(0.9)), max: Math.round(pct(1)) },
    byEvent: Object.fromEntries([...byEvent].sort((a, b) => b[1] - a[1])),
    byContract: Object.fromEntries([...byContract].sort((a, b) => b[1] - a[1])),
  };
  if (o.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const n = (v) => v.toLocaleString('en-US');
  console.log(`eth_getLogs ceiling at ${o.rpcUrl}`);
  console.log(`  blocks        ${n(from)}..${n(to)} (${n(report.blocks)})`);
  console.log(`  ranges        ${o.range === 'auto' ? `auto, about ${n(o.targetLogs)} logs each` : `${n(o.range)} blocks`}; ` +
    `${n(report.requests)} requests, ${o.concurrency} in flight${stats.splits ? `, ${stats.splits} split after an error` : ''}`);
  console.log(`  logs          ${n(report.logs)} (${report.megabytes} MB of JSON; ${n(report.avgLogsPerRequest)} per request on average, at most ${n(report.maxLogsPerRequest)})`);
  console.log(`  density       ${n(report.blocksWithLogs)} blocks with logs; per block p50 ${n(report.logsPerBlock.p50)}, max ${n(report.logsPerBlock.max)}`);
  console.log(`  time          ${report.seconds.toFixed(2)} s; request p50 ${report.requestMs.p50} ms, p90 ${report.requestMs.p90} ms, max ${report.requestMs.max} ms`);
  console.log(`  throughput    ${n(report.logsPerSecond)} logs/s`);
  console.log('  by event');
  for (const [name, count] of Object.entries(report.byEvent)) {
    console.log(`    ${name.padEnd(22)} ${n(count).padStart(10)}  ${((100 * count) / (report.logs || 1)).toFixed(1).padStart(5)} %`);
  }
  console.log('  by contract');
  for (const [name, count] of Object.entries(report.byContract)) console.log(`    ${name.padEnd(22)} ${n(count).padStart(10)}`);
}

main().catch((e) => {
  console.error(`getlogs-ceiling: ${e.message}`);
  process.exit(1);
});
