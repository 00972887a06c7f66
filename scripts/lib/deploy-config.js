// Reads a deploy settings file (deployments/config/<network>.json), checks it against the chain it is about to
// be deployed to, and writes the settings as KEY=value lines for Deploy.s.sol (through the environment).
//
// Refused (exit 1, nothing deployed):
// - the devnet profile on a chain id that is not a devnet's (31337, 1337);
// - any other profile without explicit, non-zero holder, coordinator and arbiter addresses (from the file or
//   the --holder/--coordinator/--arbiter flags);
// - a malformed file: unknown or missing keys, values that are not non-negative integers.
// Below the documented governance minimums (README, "Deploy settings"): a warning for each, on stderr; the
// same minimums are checked again on chain by `accord deployment verify`.
//
// Environment in: CONFIG (the file), CHAIN_ID, OUT (where to write), and optional HOLDER, COORDINATOR, ARBITER.
'use strict';
const fs = require('node:fs');

const DEVNET_CHAIN_IDS = [31337, 1337];
const ROLES = ['holder', 'coordinator', 'arbiter'];
const ZERO = '0x0000000000000000000000000000000000000000';
// key -> [environment name, kind]; `tokens` are whole tokens (decimal string), converted to base units.
const SCHEMA = {
  token: { supply: ['ACCORD_SUPPLY', 'tokens'] },
  governance: {
    votingDelayBlocks: ['ACCORD_VOTING_DELAY', 'int'],
    votingPeriodBlocks: ['ACCORD_VOTING_PERIOD', 'int'],
    proposalThreshold: ['ACCORD_PROPOSAL_THRESHOLD', 'tokens'],
    quorumPercent: ['ACCORD_QUORUM_PERCENT', 'int'],
    timelockDelaySecs: ['ACCORD_TIMELOCK_DELAY', 'int'],
  },
  parameters: {
    minStake: ['ACCORD_MIN_STAKE', 'tokens'],
    unbondingPeriodSecs: ['ACCORD_UNBONDING_PERIOD', 'int'],
    protocolFeeBps: ['ACCORD_PROTOCOL_FEE_BPS', 'int'],
    slashShareBps: ['ACCORD_SLASH_SHARE_BPS', 'int'],
    assignmentTimeoutSecs: ['ACCORD_ASSIGNMENT_TIMEOUT', 'int'],
    challengeWindowSecs: ['ACCORD_CHALLENGE_WINDOW', 'int'],
    disputePeriodSecs: ['ACCORD_DISPUTE_PERIOD', 'int'],
    minSubmitWindowSecs: ['ACCORD_MIN_SUBMIT_WINDOW', 'int'],
    slashRewardMultipleBps: ['ACCORD_SLASH_REWARD_MULTIPLE_BPS', 'int'],
    compensationBps: ['ACCORD_COMPENSATION_BPS', 'int'],
    declineFeeBps: ['ACCORD_DECLINE_FEE_BPS', 'int'],
    disputeBondBps: ['ACCORD_DISPUTE_BOND_BPS', 'int'],
    consensusBps: ['ACCORD_CONSENSUS_BPS', 'int'],
    revealWindowSecs: ['ACCORD_REVEAL_WINDOW', 'int'],
  },
};
// The documented minimums of a public deployment (also in src/deployment.rs, checked by `deployment verify`).
const MINIMUMS = {
  votingDelayBlocks: 7200,
  votingPeriodBlocks: 21600,
  proposalThreshold: 1,
  quorumPercent: 4,
  timelockDelaySecs: 172800,
};

function fail(message) {
  console.error(`deploy: ${message}`);
  process.exit(1);
}

const file = process.env.CONFIG;
let config;
try {
  config = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (e) {
  fail(`cannot read the deploy settings ${file}: ${e.message}`);
}
const chainId = Number(process.env.CHAIN_ID);
const known = new Set(['profile', 'description', 'roles', ...Object.keys(SCHEMA)]);
for (const key of Object.keys(config)) if (!known.has(key)) fail(`${file}: unknown key '${key}'`);
const profile = config.profile;
if (typeof profile !== 'string' || !/^[a-z][a-z0-9-]*$/.test(profile)) {
  fail(`${file}: 'profile' must be a name such as "devnet" or "production"`);
}
const devnet = profile === 'devnet';
if (devnet && !DEVNET_CHAIN_IDS.includes(chainId)) {
  fail(
    `${file} is the devnet profile, refused on chain ${chainId}: devnet settings (1-block voting, a 60 s ` +
      `timelock, roles on the deployer) are for devnet chains (${DEVNET_CHAIN_IDS.join(', ')}); use a ` +
      `production profile (see deployments/config/production.example.json)`,
  );
}

const env = {};
const values = {};
for (const [section, keys] of Object.entries(SCHEMA)) {
  const given = config[section];
  if (typeof given !== 'object' || given === null) fail(`${file}: missing section '${section}'`);
  for (const key of Object.keys(given)) if (!(key in keys)) fail(`${file}: unknown key '${section}.${key}'`);
  for (const [key, [name, kind]] of Object.entries(keys)) {
    const raw = given[key];
    if (raw === undefined) fail(`${file}: missing '${section}.${key}'`);
    const text = String(raw);
    if (!/^[0-9]+$/.test(text)) fail(`${file}: '${section}.${key}' must be a non-negative integer, not ${JSON.stringify(raw)}`);
    values[key] = BigInt(text);
    env[name] = kind === 'tokens' ? (BigInt(text) * 10n ** 18n).toString() : text;
  }
}

const roles = config.roles || {};
for (const key of Object.keys(roles)) if (!ROLES.includes(key)) fail(`${file}: unknown key 'roles.${key}'`);
const missing = [];
for (const role of ROLES) {
  const flag = process.env[role.toUpperCase()];
  const value = flag || roles[role];
  if (value === undefined || value === 'deployer') {
    if (!devnet) missing.push(role);
    continue; // Deploy.s.sol defaults the role to the deployer
  }
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    fail(`${file}: roles.${role} must be a 0x address${devnet ? ' or "deployer"' : ''}, not ${JSON.stringify(value)}`);
  }
  if (value.toLowerCase() === ZERO) {
    if (!devnet) missing.push(role);
    continue;
  }
  env[role.toUpperCase()] = value;
}
if (missing.length > 0) {
  fail(
    `the ${profile} profile needs explicit role holders, missing or zero: ${missing.join(', ')} (set them in ` +
      `${file} or pass --${missing[0]} ADDR); only the devnet profile may leave roles to the deployer`,
  );
}

if (!devnet) {
  for (const [key, min] of Object.entries(MINIMUMS)) {
    if (values[key] < BigInt(min)) {
      console.error(`deploy: warning: ${key} ${values[key]} is below the documented minimum ${min}`);
    }
  }
}
const lines = Object.entries(env).map(([k, v]) => `${k}=${v}`);
fs.writeFileSync(process.env.OUT, lines.join('\n') + '\n');
console.error(`deploy: settings ${file} (profile ${profile}) for chain ${chainId}`);
