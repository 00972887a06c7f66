// Accord operator dashboard: a client of the public REST API and its event stream, nothing else.
//
// Everything the API returns comes from chain data anyone can write (spec URIs, event arguments, proposal
// descriptions), so it only ever reaches the page as text: elements are built with createElement and filled
// with text nodes; no markup is ever parsed from data.
'use strict';

/** How often the open page reloads its data (ms). */
const REFRESH_MS = 5000;
/** Events kept by the live feed. */
const FEED_SIZE = 200;
/** Jobs counted per status on the overview; more show as "N+". */
const COUNT_CAP = 200;
/** Page size of the lists. */
const PAGE = 25;
/** Job statuses, as /v1/jobs filters them. */
const STATUSES = ['open', 'assigned', 'gathering', 'committing', 'revealing', 'submitted', 'disputed', 'paid',
  'cancelled', 'refunded'];
const SVG = 'http://www.w3.org/2000/svg';

// ---------------------------------------------------------------------------------------------------------
// DOM helpers: text only.

/** An element with attributes and children; strings become text nodes, null children are skipped. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element with attributes and children. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A link inside the dashboard. */
function link(hash, ...text) {
  return h('a', { href: hash }, ...text);
}

/** A table with a header row; `rows` are arrays of cells (nodes or text). */
function table(headers, rows, empty) {
  if (!rows.length) return h('p', { class: 'muted' }, empty || 'None.');
  return h('div', { class: 'scroll' }, h('table', null,
    h('thead', null, h('tr', null, headers.map((x) => h('th', null, x)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c)))))));
}

/** A definition list from [term, value] pairs; null values are left out. */
function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter((p) => p && p[1] !== null && p[1] !== undefined)
    .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

function section(title, ...body) {
  return h('section', { class: 'card' }, h('h2', null, title), ...body);
}

function badge(text, kind) {
  return h('span', { class: `badge ${kind || String(text).toLowerCase()}` }, text);
}

// ---------------------------------------------------------------------------------------------------------
// Formatting.

/** A uint256 decimal string of base units as tokens (18 decimals). */
function tokens(raw) {
  if (raw === null || raw === undefined) return '–';
  try {
    const v = BigInt(raw);
    const unit = 10n ** 18n;
    const frac = (v % unit).toString().padStart(18, '0').replace(/0+$/, '').slice(0, 6);
    return `${(v / unit).toLocaleString('en-US')}${frac ? '.' + frac : ''} ACRD`;
  } catch (e) {
    return String(raw);
  }
}

/** A shortened hex value, full in its tooltip. */
function short(value) {
  const v = String(value ?? '');
  const el = h('span', { class: 'mono', title: v }, v.length > 16 ? `${v.slice(0, 8)}…${v.slice(-6)}` : v);
  return el;
}

function time(unix) {
  if (unix === null || unix === undefined) return '–';
  const d = new Date(Number(unix) * 1000);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function clock(date) {
  return date.toTimeString().slice(0, 8);
}

/** Bits set in a capability mask. */
function capabilities(mask) {
  const bits = [];
  for (let i = 0; i < 16; i++) if (mask & (1 << i)) bits.push(i);
  return bits.length ? `${mask} (bits ${bits.join(', ')})` : '0 (none)';
}

/** An event's arguments as `name=value` pieces, as text. */
function argsText(args) {
  if (!args || typeof args !== 'object') return '';
  return Object.entries(args).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('  ');
}

const q = encodeURIComponent;

function jobHref(chain, id) { return `#/jobs/${q(chain)}/${q(id)}`; }
function workerHref(chain, address) { return `#/workers/${q(chain)}/${q(address)}`; }
function proposalHref(chain, id) { return `#/proposals/${q(chain)}/${q(id)}`; }

/** A worker's address, linked to its page. */
function workerLink(chain, address) {
  return address ? link(workerHref(chain, address), short(address)) : '–';
}

/** An entity stream (`job:7`, `worker:0x…`), linked to its page when there is one. */
function streamLink(chain, stream) {
  const [kind, ...rest] = String(stream || '').split(':');
  const id = rest.join(':');
  if (kind === 'job' && id) return link(jobHref(chain, id), stream);
  if (kind === 'worker' && id) return link(workerHref(chain, id), short(stream));
  if (kind === 'proposal' && id) return link(proposalHref(chain, id), short(stream));
  return stream || '';
}

// ---------------------------------------------------------------------------------------------------------
// The API, and the banner that tells when it cannot be reached.

/** A failed API answer: HTTP status and the API's error code and message. */
class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** Why the API looks down, by source (`fetch`, `stream`); the banner shows while any is set. */
const trouble = { fetch: null, stream: null };
let lastGood = null;

function setTrouble(source, message) {
  trouble[source] = message;
  if (!message && source === 'fetch') lastGood = new Date();
  const banner = document.getElementById('banner');
  const shown = trouble.fetch || trouble.stream;
  if (!shown) {
    banner.hidden = true;
    fill(banner);
    return;
  }
  fill(banner, h('strong', null, shown), lastGood ? ` Showing the data of ${clock(lastGood)}.` : '');
  banner.hidden = false;
}

/** GET `path` as JSON. A network failure or a 5xx raises the banner; a 4xx is the caller's to show. */
async function api(path) {
  let response;
  try {
    response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    setTrouble('fetch', 'API unreachable — retrying.');
    throw new ApiError(0, 'unreachable', 'API unreachable');
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const error = new ApiError(response.status, body?.error?.code, body?.error?.message);
    if (response.status >= 500) setTrouble('fetch', `API unavailable (${response.status}: ${error.message}) — retrying.`);
    else setTrouble('fetch', null);
    throw error;
  }
  setTrouble('fetch', null);
  return response.json();
}

/** A page of `path` plus the query `params` (empty values left out). */
function withQuery(path, params) {
  const query = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${q(k)}=${q(v)}`).join('&');
  return query ? `${path}?${query}` : path;
}

let status = null;

/** `/v1/status`, kept for the pages that need the chains. */
async function loadStatus() {
  status = await api('/v1/status');
  return status;
}

function chainNames() {
  return status ? status.chains.map((c) => c.chain) : [];
}

// ---------------------------------------------------------------------------------------------------------
// The live feed: /v1/events/stream read with fetch, so every event name arrives (EventSource only delivers the
// names it is told of).

const feed = { items: [], connected: false, received: 0, listeners: new Set() };

function onMessage(name, data) {
  let parsed;
  try { parsed = JSON.parse(data); } catch (e) { return; }
  const at = new Date();
  if (name === 'Reorg') {
    for (const item of feed.items) {
      if (item.kind === 'event' && item.data.chain === parsed.chain && item.data.block_number > parsed.fork_block) {
        item.withdrawn = true;
      }
    }
    feed.items.unshift({ kind: 'reorg', data: parsed, at });
  } else if (name === 'lagged') {
    feed.items.unshift({ kind: 'lagged', data: parsed, at });
  } else {
    feed.items.unshift({ kind: 'event', name, data: parsed, at });
  }
  feed.items.length = Math.min(feed.items.length, FEED_SIZE);
  feed.received += 1;
  for (const listener of feed.listeners) listener();
  showLiveState();
}

/** Splits one SSE message block into its event name and data. */
function onBlock(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length) onMessage(name, data.join('\n'));
}

function showLiveState() {
  const el = document.getElementById('live-state');
  el.className = `live-state ${feed.connected ? 'on' : 'off'}`;
  fill(el, feed.connected ? `live · ${feed.received} events` : 'stream disconnected');
}

async function streamOnce() {
  const response = await fetch('/v1/events/stream', { headers: { accept: 'text/event-stream' }, cache: 'no-store' });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  feed.connected = true;
  setTrouble('stream', null);
  showLiveState();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r\n\r\n|\n\n|\r\r/)) >= 0) {
      const sep = buffer.startsWith('\r\n\r\n', end) ? 4 : 2;
      onBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + sep);
    }
  }
}

/** Keeps the stream open, reconnecting with backoff; the banner shows while it is down. */
async function streamForever() {
  let wait = 1000;
  for (;;) {
    const opened = Date.now();
    try {
      await streamOnce();
    } catch (e) {
      // Shown below.
    }
    feed.connected = false;
    setTrouble('stream', 'API unreachable — retrying (the live event stream is down).');
    showLiveState();
    if (Date.now() - opened > 30000) wait = 1000;
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 10000);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Pages. Each `mount(params)` builds its frame and returns `refresh()`, which loads the data and replaces the
// frame's content only once it has it: a failed load leaves the last data in place.

/** Shows `error` in `el` if it holds no data yet, else leaves the data (the banner tells the rest). */
function failed(el, error) {
  if (!el.dataset.loaded) fill(el, h('p', { class: 'error' }, `Cannot load: ${error.message}`));
}

function loaded(el, ...children) {
  el.dataset.loaded = '1';
  return fill(el, ...children);
}

/** The overview: chains, jobs by status, the last hour's activity, the scheduler and the DA router. */
function overviewPage() {
  const chains = h('div', { id: 'chains' });
  const jobs = h('div', { id: 'job-counts' });
  const chart = h('div', { id: 'activity' });
  const da = h('div', { id: 'da-router' });
  fill(view(), h('h1', null, 'Overview'),
    section('Chains', chains), h('div', { class: 'grid' }, section('Jobs by status', jobs), section('DA router', da)),
    section('Last hour', chart));
  return async () => {
    const [st, counts, activity] = await Promise.all([loadStatus(), jobCounts(), api('/v1/activity')]);
    loaded(chains, chainsTable(st));
    loaded(jobs, countsTable(counts));
    loaded(chart, activityChart(activity));
    loaded(da, routerFacts(st.da));
  };
}

function chainsTable(st) {
  return [
    table(['chain', 'head', 'indexed', 'lag', 'index', 'scheduler'], st.chains.map((c) => [
      h('span', { class: 'mono' }, c.chain),
      String(c.head), String(c.indexed),
      h('span', { class: c.lag > c.confirmations + 5 ? 'warn' : '' }, String(c.lag)),
      c.halted ? badge('halted', 'bad') : c.caught_up ? badge('caught up', 'good') : badge('catching up', 'warn'),
      h('div', { class: 'scheduler' }, schedulerText(c.scheduler)),
    ])),
    st.chains.filter((c) => c.halted).map((c) => h('p', { class: 'error' },
      `${c.chain}: indexing halted: ${typeof c.halted === 'string' ? c.halted : JSON.stringify(c.halted)}`)),
  ];
}

function schedulerText(sc) {
  if (!sc || !sc.enabled) return h('span', { class: 'muted' }, 'not running here');
  const parts = [sc.leader ? badge('leader', 'good') : badge('standby', 'muted'), ` ${sc.strategy}: `,
    `${sc.assigned} assigned, ${sc.refused} refused, ${sc.housekeeping} housekeeping`];
  if (sc.paused) parts.push(h('div', { class: 'warn' }, `paused: ${sc.paused}`));
  if (sc.last_error) parts.push(h('div', { class: 'error small' }, `last error: ${sc.last_error}`));
  return h('div', null, parts);
}

function routerFacts(da) {
  return facts([
    ['primary', da.primary],
    ['secondary', da.secondary || 'none'],
    ['pending blobs', String(da.pending)],
    ['oldest pending', da.oldest_pending ? time(da.oldest_pending) : '–'],
  ]);
}

/** Jobs per status, each counted up to COUNT_CAP (lists have no totals: one page per status). */
async function jobCounts() {
  const pages = await Promise.all(STATUSES.map((st) => api(withQuery('/v1/jobs', { status: st, limit: COUNT_CAP }))));
  return STATUSES.map((st, i) => ({
    status: st,
    count: pages[i].items.length,
    more: Boolean(pages[i].next_cursor),
  }));
}

function countsTable(counts) {
  const total = counts.reduce((n, c) => n + c.count, 0);
  const more = counts.some((c) => c.more);
  return [
    h('p', { class: 'big', id: 'jobs-total' }, `${total}${more ? '+' : ''} jobs`),
    h('ul', { class: 'counts' }, counts.filter((c) => c.count > 0).map((c) =>
      h('li', null, link(`#/jobs?status=${c.status}`, badge(c.status), ` ${c.count}${c.more ? '+' : ''}`)))),
  ];
}

/** Bars per minute: assignments and payments over the last hour. */
function activityChart(activity) {
  const minutes = activity.minutes;
  const width = 600;
  const height = 150;
  const top = 24;
  const base = height;
  const max = Math.max(1, ...minutes.map((m) => Math.max(m.assigned, m.paid)));
  const slot = width / minutes.length;
  const bar = Math.max(1, slot / 2 - 1);
  const y = (v) => base - ((base - top) * v) / max;
  // Bars only: the drawing stretches to the box; the labels are text around it.
  const bars = minutes.flatMap((m, i) => {
    const x = i * slot;
    const label = `${clock(new Date(m.start * 1000)).slice(0, 5)}: ${m.assigned} assigned, ${m.paid} paid`;
    return [
      s('rect', { class: 'assigned', x: x.toFixed(1), y: y(m.assigned).toFixed(1), width: bar.toFixed(1), height: (base - y(m.assigned)).toFixed(1) }, s('title', null, label)),
      s('rect', { class: 'paid', x: (x + bar).toFixed(1), y: y(m.paid).toFixed(1), width: bar.toFixed(1), height: (base - y(m.paid)).toFixed(1) }, s('title', null, label)),
    ];
  });
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: 'chart', role: 'img', 'aria-label': 'Assignments and payments per minute' },
    s('line', { x1: 0, x2: width, y1: top, y2: top, class: 'grid-line' }),
    s('line', { x1: 0, x2: width, y1: base, y2: base, class: 'axis' }),
    bars);
  const assigned = minutes.reduce((n, m) => n + m.assigned, 0);
  const paid = minutes.reduce((n, m) => n + m.paid, 0);
  return [
    h('p', null, h('span', { class: 'key assigned' }, '■'), ` ${assigned} assignments  `,
      h('span', { class: 'key paid' }, '■'), ` ${paid} payments in the last hour`),
    h('div', { class: 'chart-box' }, h('span', { class: 'chart-max small muted' }, `${max} per minute`), svg),
    h('div', { class: 'chart-axis small muted' }, h('span', null, '60 min ago'), h('span', null, '30 min'), h('span', null, 'now')),
    h('p', { class: 'muted small' }, `Counted by this server as it indexes, since ${time(activity.since)}; counts restart with the server.`),
  ];
}

/** Reads `#/page?k=v` parameters. */
function hashParams() {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
}

function chainSelect(name, value, withAll) {
  return h('select', { name, 'aria-label': 'chain' },
    withAll ? h('option', { value: '' }, 'all chains') : null,
    chainNames().map((c) => h('option', { value: c, selected: c === value }, c)));
}

/** The job list: filters in the hash, one page at a time. */
function jobsPage() {
  const p = hashParams();
  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const params = {};
    for (const [k, v] of data.entries()) if (v) params[k] = v;
    location.hash = withQuery('#/jobs', params);
  } });
  const list = h('div', { id: 'job-list' });
  fill(view(), h('h1', null, 'Jobs'), form, list);
  const drawForm = () => fill(form,
    chainSelect('chain', p.get('chain'), true),
    h('select', { name: 'status', 'aria-label': 'status' }, h('option', { value: '' }, 'any status'),
      STATUSES.map((st) => h('option', { value: st, selected: st === p.get('status') }, st))),
    h('input', { name: 'client', placeholder: 'client address', value: p.get('client') || '', size: 20 }),
    h('input', { name: 'worker', placeholder: 'worker address', value: p.get('worker') || '', size: 20 }),
    h('button', { type: 'submit' }, 'Filter'));
  let formDrawn = false;
  return async () => {
    if (!formDrawn) {
      await loadStatus();
      drawForm();
      formDrawn = true;
    }
    const filters = { chain: p.get('chain'), status: p.get('status'), client: p.get('client'), worker: p.get('worker') };
    let page;
    try {
      page = await api(withQuery('/v1/jobs', { ...filters, limit: PAGE, cursor: p.get('cursor') }));
    } catch (e) {
      if (e.status === 400) return loaded(list, h('p', { class: 'error' }, e.message));
      throw e;
    }
    loaded(list, table(['chain', 'job', 'status', 'reward', 'client', 'worker', 'replicas', 'posted', 'spec'],
      page.items.map((j) => [
        h('span', { class: 'mono small' }, j.chain),
        link(jobHref(j.chain, j.job_id), j.job_id),
        badge(j.status),
        tokens(j.reward),
        short(j.client),
        j.worker ? workerLink(j.chain, j.worker) : '–',
        j.redundancy > 1 ? `${j.threshold} of ${j.redundancy}` : '1',
        `#${j.posted_block}`,
        h('span', { class: 'clip', title: j.spec_uri }, j.spec_uri),
      ]), 'No jobs match.'),
    pager(p, page.next_cursor, '#/jobs', filters));
  };
}

/** First-page and next-page links of a list. */
function pager(p, next, base, filters) {
  return h('p', { class: 'pager' },
    p.get('cursor') ? link(withQuery(base, filters), '« first page') : null,
    next ? link(withQuery(base, { ...filters, cursor: next }), 'next page »') : null);
}

/** One job: its facts, result and its verification, assignments, payments, slashes and event timeline. */
function jobPage(chain, id) {
  const summary = h('div', { id: 'job' });
  const result = h('div', { id: 'result' });
  const body = h('div', { id: 'job-records' });
  const timeline = h('div', { id: 'timeline' });
  fill(view(), h('h1', null, `Job ${id} `, h('small', { class: 'mono' }, chain)), summary,
    section('Result', result), body, section('Timeline', timeline));
  let verified = null;
  // A result that did not verify is fetched again at most every 30 s (each fetch may reach the DA layer).
  let failedAt = 0;
  return async () => {
    const where = { chain };
    const [job, events] = await Promise.all([
      api(withQuery(`/v1/jobs/${q(id)}`, where)),
      api(withQuery('/v1/events', { chain, stream: `job:${id}`, limit: 200 })),
    ]);
    loaded(summary, jobFacts(job));
    loaded(body,
      section('Assignments', table(['attempt', 'worker', 'outcome', 'due', 'slashed', 'block', 'commitment'],
        job.assignments.map((a) => [String(a.attempt), workerLink(chain, a.worker), badge(a.outcome), time(a.due),
          tokens(a.slashed), `#${a.assigned_block}`, a.commitment ? short(a.commitment) : '–']))),
      section('Payments', table(['kind', 'recipient', 'amount', 'fee', 'block', 'tx'],
        job.payments.map((x) => [x.kind, short(x.recipient), tokens(x.amount), tokens(x.fee), `#${x.block_number}`, short(x.tx_hash)]))),
      section('Slashes', table(['worker', 'amount', 'recipient', 'block', 'tx'],
        job.slashes.map((x) => [workerLink(chain, x.worker), tokens(x.amount), short(x.recipient), `#${x.block_number}`, short(x.tx_hash)]))));
    loaded(timeline, table(['block', 'event', 'arguments', 'tx'], events.items.map((e) => [
      `#${e.block_number}:${e.log_index}`, e.event, h('span', { class: 'args' }, argsText(e.args)), short(e.tx_hash)]),
    'No events.'));
    if (!job.results.length) {
      loaded(result, h('p', { class: 'muted', id: 'verification' }, 'No result submitted yet.'));
    } else if (!verified && Date.now() - failedAt >= 30000) {
      verified = await verifyResult(chain, id, job);
      loaded(result, verified.node);
      if (!verified.ok) {
        verified = null;
        failedAt = Date.now();
      }
    }
  };
}

function jobFacts(j) {
  return section('Job', facts([
    ['status', badge(j.status)],
    ['client', short(j.client)],
    ['reward', tokens(j.reward)],
    ['replicas', j.redundancy > 1 ? `${j.redundancy}, ${j.threshold} must agree` : '1'],
    ['consensus', j.consensus ? short(j.consensus) : null],
    ['worker', j.worker ? workerLink(j.chain, j.worker) : null],
    ['attempts left', `${j.attempts_left} of ${j.max_attempts}`],
    ['capabilities', capabilities(j.required_capabilities)],
    ['deadline', time(j.deadline)],
    ['due', j.due ? time(j.due) : null],
    ['spec hash', short(j.spec_hash)],
    ['spec URI', h('span', { class: 'wrap', id: 'spec-uri' }, j.spec_uri)],
    ['spec URI bytes', j.spec_uri_hex ? h('span', { class: 'wrap mono' }, j.spec_uri_hex) : null],
    ['blocks', `posted #${j.posted_block}, updated #${j.updated_block}`],
  ]));
}

/** Fetches the result through the API, which serves bytes only once they match the on-chain commitment. */
async function verifyResult(chain, id, job) {
  const url = withQuery(`/v1/jobs/${q(id)}/result`, { chain });
  const latest = job.results[job.results.length - 1];
  const table_ = table(['attempt', 'worker', 'DA kind', 'commitment', 'size', 'locator', 'challenge ends', 'block'],
    job.results.map((r) => [String(r.attempt), workerLink(chain, r.worker), String(r.da_kind), short(r.commitment),
      `${r.size} B`, h('span', { class: 'clip', title: r.locator }, r.locator), time(r.challenge_ends_at), `#${r.block_number}`]));
  let response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (e) {
    setTrouble('fetch', 'API unreachable — retrying.');
    throw new ApiError(0, 'unreachable', 'API unreachable');
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const message = body?.error?.message || `HTTP ${response.status}`;
    const state = body?.error?.code === 'result_mismatch' ? badge('mismatch', 'bad') : badge('unavailable', 'warn');
    return { ok: false, node: [h('p', { id: 'verification' }, state, ` ${message}`), table_] };
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const commitment = response.headers.get('x-accord-commitment') || '';
  const source = response.headers.get('x-accord-source') || '';
  const expected = job.consensus || latest.commitment;
  const matches = commitment.toLowerCase() === String(expected).toLowerCase();
  const preview = new TextDecoder('utf-8', { fatal: false }).decode(bytes.slice(0, 2048));
  return {
    ok: matches,
    node: [
      h('p', { id: 'verification' },
        matches ? badge('verified', 'good') : badge('commitment differs', 'bad'),
        ` ${bytes.length} bytes checked against the on-chain commitment `, short(commitment), ` (from the ${source}). `,
        h('a', { href: url, download: `job-${id}-result.bin`, id: 'download' }, 'Download')),
      h('pre', { class: 'preview' }, preview),
      table_,
    ],
  };
}

/** Most workers one placement lists (`rf`'s maximum). */
const PLACEMENT_MAX = 16;

/** Each chain's live, eligible workers (a heartbeat within 60 s, staked, not jailed), as the placement of any
 * key over all of them lists them: complete when the chain has at most PLACEMENT_MAX. */
async function liveWorkers(chains) {
  const pages = await Promise.all(chains.map((c) =>
    api(withQuery('/v1/placement/liveness', { chain: c, rf: PLACEMENT_MAX }))));
  const live = {};
  chains.forEach((c, i) => {
    const p = pages[i];
    live[c] = { set: new Set(p.workers.map((w) => w.address.toLowerCase())), complete: p.candidates <= p.workers.length };
  });
  return live;
}

function liveness(live, chain, address) {
  const l = live[chain];
  if (!l) return '–';
  if (l.set.has(String(address).toLowerCase())) return badge('live', 'good');
  return l.complete ? h('span', { class: 'badge muted', title: 'no heartbeat within 60 s, or not eligible (stake, jail)' }, 'not live') : '–';
}

/** The worker list. */
function workersPage() {
  const p = hashParams();
  const list = h('div', { id: 'worker-list' });
  fill(view(), h('h1', null, 'Workers'), list);
  return async () => {
    const st = await loadStatus();
    const [page, live] = await Promise.all([
      api(withQuery('/v1/workers', { chain: p.get('chain'), limit: PAGE, cursor: p.get('cursor') })),
      liveWorkers(st.chains.map((c) => c.chain)),
    ]);
    loaded(list, table(['chain', 'address', 'liveness', 'stake', 'pending', 'capabilities', 'state', 'slashed', 'registered', 'metadata'],
      page.items.map((w) => [
        h('span', { class: 'mono small' }, w.chain), workerLink(w.chain, w.address), liveness(live, w.chain, w.address),
        tokens(w.stake), tokens(w.pending),
        capabilities(w.capabilities), w.jailed ? badge('jailed', 'bad') : badge('active', 'good'), tokens(w.slashed_total),
        `#${w.registered_block}`, h('span', { class: 'clip', title: w.metadata_uri }, w.metadata_uri || '–'),
      ]), 'No workers registered.'),
    pager(p, page.next_cursor, '#/workers', { chain: p.get('chain') }));
  };
}

/** One worker: stake, outcome counts and the share paid, current jobs, rewards and slashes. */
function workerPage(chain, address) {
  const body = h('div', { id: 'worker' });
  fill(view(), h('h1', null, 'Worker ', h('small', { class: 'mono wrap' }, address)), body);
  return async () => {
    const where = { chain, worker: address, limit: PAGE };
    const [w, jobs, rewards, slashes, live] = await Promise.all([
      api(withQuery(`/v1/workers/${q(address)}`, { chain })),
      api(withQuery('/v1/jobs', where)),
      api(withQuery('/v1/rewards', where)),
      api(withQuery('/v1/slashes', where)),
      liveWorkers([chain]),
    ]);
    const c = w.counts;
    const ended = c.completed + c.expired + c.disputed + c.declined;
    loaded(body,
      section('Worker', facts([
        ['chain', w.chain],
        ['stake', tokens(w.stake)],
        ['unbonding', `${tokens(w.pending)}${w.unlock_at ? `, withdrawable from ${time(w.unlock_at)}` : ''}`],
        ['state', w.jailed ? badge('jailed', 'bad') : badge('active', 'good')],
        ['liveness', liveness(live, chain, w.address)],
        ['capabilities', capabilities(w.capabilities)],
        ['slashed in all', tokens(w.slashed_total)],
        ['reputation', ended ? `${Math.round((100 * c.completed) / ended)} % of ${ended} ended assignments paid` : 'no ended assignment yet'],
        ['outcomes', `${c.completed} paid, ${c.expired} expired, ${c.disputed} disputed, ${c.declined} declined, ${c.slashed} slashes`],
        ['metadata', h('span', { class: 'wrap' }, w.metadata_uri || '–')],
        ['blocks', `registered #${w.registered_block}, updated #${w.updated_block}`],
      ])),
      section('Assigned now', table(['job', 'status', 'reward', 'due'], jobs.items.map((j) =>
        [link(jobHref(chain, j.job_id), j.job_id), badge(j.status), tokens(j.reward), time(j.due)]), 'No job assigned.')),
      section('Rewards', table(['job', 'amount', 'fee', 'block', 'tx'], rewards.items.map((r) =>
        [r.job_id ? link(jobHref(chain, r.job_id), r.job_id) : '–', tokens(r.amount), tokens(r.fee), `#${r.block_number}`, short(r.tx_hash)]),
      'No rewards.')),
      section('Slashes', table(['job', 'amount', 'recipient', 'block', 'tx'], slashes.items.map((x) =>
        [x.job_id ? link(jobHref(chain, x.job_id), x.job_id) : '–', tokens(x.amount), short(x.recipient), `#${x.block_number}`, short(x.tx_hash)]),
      'Never slashed.')));
  };
}

/** Proposals with their tallies and state, and every chain's current parameters. */
function governancePage() {
  const p = hashParams();
  const proposals = h('div', { id: 'proposals' });
  const params = h('div', { id: 'params' });
  fill(view(), h('h1', null, 'Governance'), section('Proposals', proposals), section('Parameters', params));
  return async () => {
    const st = await loadStatus();
    const [page, ...byChain] = await Promise.all([
      api(withQuery('/v1/proposals', { limit: PAGE, cursor: p.get('cursor') })),
      ...st.chains.map((c) => api(withQuery('/v1/params', { chain: c.chain }))),
    ]);
    loaded(proposals, table(['chain', 'proposal', 'state', 'description', 'tally', 'voting'], page.items.map((x) => [
      h('span', { class: 'mono small' }, x.chain), link(proposalHref(x.chain, x.proposal_id), short(x.proposal_id)),
      badge(x.state), h('span', { class: 'clip', title: x.description }, x.description), tally(x),
      `${x.vote_start} – ${x.vote_end}`,
    ]), 'No proposals yet.'), pager(p, page.next_cursor, '#/governance', {}));
    loaded(params, st.chains.map((c, i) => [
      h('h3', { class: 'mono' }, c.chain),
      table(['contract', 'parameter', 'value', 'bounds', 'set at'], Object.entries(byChain[i]).flatMap(([contract, keys]) =>
        Object.entries(keys).map(([key, v]) => [contract, key, h('span', { class: 'mono' }, v.value),
          h('span', { class: 'mono muted' }, v.min !== null && v.min !== undefined ? `${v.min} … ${v.max}` : '–'), `#${v.block_number}`])),
      'No parameters indexed.'),
    ]));
  };
}

/** For, against and abstain, with the quorum when known. */
function tally(x) {
  const parts = [`for ${tokens(x.for_votes)} · against ${tokens(x.against_votes)} · abstain ${tokens(x.abstain_votes)}`];
  if (x.quorum) {
    const reached = BigInt(x.for_votes) + BigInt(x.abstain_votes) >= BigInt(x.quorum);
    parts.push(h('div', { class: reached ? 'good small' : 'muted small' }, `quorum ${tokens(x.quorum)}${reached ? ' reached' : ''}`));
  }
  return h('div', null, parts);
}

function proposalPage(chain, id) {
  const body = h('div', { id: 'proposal' });
  fill(view(), h('h1', null, 'Proposal ', h('small', { class: 'mono wrap' }, id)), body);
  return async () => {
    const x = await api(withQuery(`/v1/proposals/${q(id)}`, { chain }));
    loaded(body,
      section('Proposal', facts([
        ['chain', x.chain], ['state', badge(x.state)], ['proposer', short(x.proposer)],
        ['description', h('span', { class: 'wrap' }, x.description)],
        ['tally', tally(x)], ['voting', `blocks ${x.vote_start} – ${x.vote_end}`],
        ['executable at', x.queued_eta ? time(x.queued_eta) : null], ['created', `#${x.created_block}`],
      ])),
      section('Actions', table(['target', 'calldata'], x.targets.map((t, i) => [short(t), h('span', { class: 'mono wrap small' }, x.calldatas[i] || '')]))),
      section('Votes', table(['voter', 'support', 'weight', 'reason', 'block'], x.votes.map((v) => [
        short(v.voter), ['against', 'for', 'abstain'][v.support] || String(v.support), tokens(v.weight),
        h('span', { class: 'wrap' }, v.reason), `#${v.block_number}`]), 'No votes yet.')));
  };
}

/** The live feed: events as they are indexed, reorgs apart, withdrawn events struck through. */
function livePage() {
  const list = h('div', { id: 'feed' });
  fill(view(), h('h1', null, 'Live events'),
    h('p', { class: 'muted' }, 'Newly indexed events from /v1/events/stream, newest first. A reorg withdraws every event above its fork block.'),
    list);
  let pending = false;
  const draw = () => {
    pending = false;
    fill(list, feed.items.length ? h('div', { class: 'scroll' }, h('table', { class: 'feed' },
      h('thead', null, h('tr', null, ['received', 'chain', 'position', 'event', 'stream', 'arguments'].map((x) => h('th', null, x)))),
      h('tbody', null, feed.items.map(feedRow)))) : h('p', { class: 'muted' }, 'Waiting for events…'));
  };
  const listener = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(draw);
    }
  };
  feed.listeners.add(listener);
  draw();
  return { refresh: async () => {}, unmount: () => feed.listeners.delete(listener) };
}

function feedRow(item) {
  const at = clock(item.at);
  if (item.kind === 'reorg') {
    const r = item.data;
    return h('tr', { class: 'reorg' }, h('td', null, at), h('td', { class: 'mono small' }, r.chain),
      h('td', null, `fork #${r.fork_block}`), h('td', null, badge('Reorg', 'bad')),
      h('td', { colspan: 2 }, `The chain replaced the blocks above #${r.fork_block}: ${r.removed_events} indexed events withdrawn.`));
  }
  if (item.kind === 'lagged') {
    return h('tr', { class: 'lagged' }, h('td', null, at), h('td', { colspan: 5 },
      `Missed ${item.data.skipped} events (read them from /v1/events).`));
  }
  const e = item.data;
  return h('tr', { class: item.withdrawn ? 'withdrawn' : 'event' }, h('td', null, at),
    h('td', { class: 'mono small' }, e.chain), h('td', null, `#${e.block_number}:${e.log_index}`),
    h('td', null, e.event), h('td', null, streamLink(e.chain, e.stream)),
    h('td', { class: 'args' }, argsText(e.args)));
}

/** The DA report: results by state, the oldest missing one, and the problems. */
function daPage() {
  const router = h('div', { id: 'da-router' });
  const report = h('div', { id: 'da-report' });
  fill(view(), h('h1', null, 'Data availability'), section('Router', router), section('Results on their DA layers', report));
  return async () => {
    const st = await loadStatus();
    loaded(router, routerFacts(st.da));
    let r;
    try {
      r = await api('/v1/da/report');
    } catch (e) {
      if (e.status === 404) return loaded(report, h('p', { class: 'muted', id: 'da-missing' }, 'The DA report is not available on this server.'));
      throw e;
    }
    const unchecked = (r.counts || {}).unchecked || 0;
    loaded(report,
      h('p', null, `${r.results} results committed on chain, ${r.results - unchecked} checked.`),
      h('ul', { class: 'counts', id: 'da-counts' }, Object.entries(r.counts || {}).map(([k, n]) => h('li', null, badge(k), ` ${n}`))),
      h('h3', null, 'Oldest missing'),
      r.oldest_missing ? daItems([r.oldest_missing]) : h('p', { class: 'muted' }, 'None missing.'),
      h('h3', null, 'Problems'),
      daItems(r.problems || []));
  };
}

function daItems(items) {
  const when = (t) => (typeof t === 'number' ? time(t) : '–');
  return table(['chain', 'job', 'attempt', 'kind', 'state', 'layer', 'archive', 'commitment', 'block', 'not available since', 'checked', 'detail'],
    items.map((x) => [
      h('span', { class: 'mono small' }, x.chain), link(jobHref(x.chain, x.job_id), String(x.job_id)), String(x.attempt ?? '–'),
      String(x.kind), badge(String(x.state)), String(x.layer ?? '–'), String(x.archive ?? '–'), short(x.commitment),
      `#${x.block_number}`, when(x.missing_since), when(x.checked_at), h('span', { class: 'clip', title: x.detail || '' }, x.detail || ''),
    ]), 'No problems.');
}

// ---------------------------------------------------------------------------------------------------------
// Router: `#/page/...`, refreshed every REFRESH_MS while it is open.

function view() {
  return document.getElementById('view');
}

/** The page for the current hash and the nav entry it belongs to. */
function route() {
  const path = location.hash.replace(/^#/, '').split('?')[0] || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [page, a, b] = parts;
  if (page === 'jobs' && a && b) return ['jobs', () => jobPage(a, b)];
  if (page === 'jobs') return ['jobs', jobsPage];
  if (page === 'workers' && a && b) return ['workers', () => workerPage(a, b)];
  if (page === 'workers') return ['workers', workersPage];
  if (page === 'proposals' && a && b) return ['governance', () => proposalPage(a, b)];
  if (page === 'governance') return ['governance', governancePage];
  if (page === 'live') return ['live', livePage];
  if (page === 'da') return ['da', daPage];
  return ['overview', overviewPage];
}

let current = { generation: 0, timer: null, unmount: null };

function show() {
  const generation = current.generation + 1;
  clearTimeout(current.timer);
  if (current.unmount) current.unmount();
  const [name, mount] = route();
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name);
  document.body.dataset.page = name;
  const mounted = mount();
  const refresh = typeof mounted === 'function' ? mounted : mounted.refresh;
  current = { generation, timer: null, unmount: mounted.unmount || null };
  const tick = async () => {
    try {
      await refresh();
      document.body.dataset.loaded = String(generation);
    } catch (e) {
      const slot = view().querySelector('[id]:not([data-loaded])');
      if (slot) failed(slot, e);
    }
    if (current.generation === generation) current.timer = setTimeout(tick, REFRESH_MS);
  };
  tick();
}

window.addEventListener('hashchange', show);
window.addEventListener('DOMContentLoaded', () => {
  show();
  streamForever();
});
