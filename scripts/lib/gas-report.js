// Reads the gas benchmark's broadcast receipts and prints the per-operation table (or JSON with --json).
'use strict';
const fs = require('node:fs');

const run = JSON.parse(fs.readFileSync(process.env.BROADCAST, 'utf8'));
const gasOf = new Map(run.receipts.map((r) => [r.transactionHash, Number(BigInt(r.gasUsed))]));
const calls = {};
for (const tx of run.transactions) {
  const fn = (tx.function || '').split('(')[0];
  if (!fn) continue;
  (calls[fn] = calls[fn] || []).push(gasOf.get(tx.hash));
}
const ops = ['postJob', 'assign', 'submitResult', 'acceptResult'];
for (const op of ops) {
  if (!calls[op] || calls[op].length < 3) throw new Error(`expected 3 ${op} transactions, found ${calls[op]?.length ?? 0}`);
}
const life = (i) => ops.reduce((sum, op) => sum + calls[op][i], 0);
const batch = calls.assignBatch?.[0];
if (!batch) throw new Error('no assignBatch transaction');
const perJob = Math.round(batch / 50);
const report = {
  first: Object.fromEntries(ops.map((op) => [op, calls[op][0]])),
  steady: Object.fromEntries(ops.map((op) => [op, calls[op][2]])),
  lifeFirst: life(0),
  lifeSteady: life(2),
  assignBatch50: batch,
  assignBatchPerJob: perJob,
  targets: { life: 250000, batchPerJob: 35000 },
};
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const fmt = (n) => n.toLocaleString('en-US').padStart(9);
  console.log('| operation | first job | steady state |');
  console.log('| --- | ---: | ---: |');
  for (const op of ops) console.log(`| ${op} | ${fmt(calls[op][0])} | ${fmt(calls[op][2])} |`);
  console.log(`| whole life (sum) | ${fmt(report.lifeFirst)} | ${fmt(report.lifeSteady)} |`);
  console.log(`| assignBatch, 50 jobs, 50 distinct workers | ${fmt(batch)} | per job ${fmt(perJob)} |`);
  console.log(`targets: whole life <= 250,000 (steady ${report.lifeSteady <= 250000 ? 'met' : 'MISSED'}, first ${report.lifeFirst <= 250000 ? 'met' : 'MISSED'}); batch <= 35,000/job (${perJob <= 35000 ? 'met' : 'MISSED'})`);
}
if (report.lifeSteady > 250000 || perJob > 35000) process.exit(1);
