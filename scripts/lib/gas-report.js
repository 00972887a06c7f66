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
// Two redundant lives (n = 3, k = 2) follow: one postRedundantJob, one assignBatch of 3, 3 commits, 3 reveals
// (the last one settles), one acceptResult (it pays the three) each; the second is the steady state.
const red = ['postRedundantJob', 'commitResult', 'revealResult'];
for (const op of red) if (!calls[op]) throw new Error(`no ${op} transaction`);
const redundant = (n) => {
  const post = calls.postRedundantJob[n];
  const assign = calls.assignBatch[1 + n];
  const commits = calls.commitResult.slice(3 * n, 3 * n + 3);
  const reveals = calls.revealResult.slice(3 * n, 3 * n + 3);
  const accept = calls.acceptResult[3 + n];
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  return {
    postRedundantJob: post,
    assignBatchOf3: assign,
    commitPerReplica: Math.round(sum(commits) / 3),
    revealPerReplica: Math.round(sum(reveals.slice(0, 2)) / 2),
    lastRevealSettles: reveals[2],
    acceptPays3: accept,
    perReplica: Math.round((sum(commits) + sum(reveals)) / 3),
    whole: post + assign + sum(commits) + sum(reveals) + accept,
  };
};
const report = {
  redundantFirst: redundant(0),
  redundantSteady: redundant(1),
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
  console.log('');
  console.log('| redundant job, n = 3, k = 2, all agree | first job | steady state |');
  console.log('| --- | ---: | ---: |');
  const [a, b] = [report.redundantFirst, report.redundantSteady];
  const rows = [
    ['postRedundantJob (client)', 'postRedundantJob'],
    ['assignBatch of the 3 replicas (coordinator)', 'assignBatchOf3'],
    ['commitResult, per replica', 'commitPerReplica'],
    ['revealResult, per replica (not the last)', 'revealPerReplica'],
    ['revealResult, the last (settles the consensus)', 'lastRevealSettles'],
    ['acceptResult (client; pays the 3)', 'acceptPays3'],
    ['per replica: commit + reveal, the settling one averaged in', 'perReplica'],
  ];
  for (const [label, key] of rows) console.log(`| ${label} | ${fmt(a[key])} | ${fmt(b[key])} |`);
  console.log(`| whole life (sum) | ${fmt(a.whole)} | ${fmt(b.whole)} |`);
  console.log(`targets: whole life <= 250,000 (steady ${report.lifeSteady <= 250000 ? 'met' : 'MISSED'}, first ${report.lifeFirst <= 250000 ? 'met' : 'MISSED'}); batch <= 35,000/job (${perJob <= 35000 ? 'met' : 'MISSED'})`);
}
if (report.lifeSteady > 250000 || perJob > 35000) process.exit(1);
