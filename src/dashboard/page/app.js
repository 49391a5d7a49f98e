// The operator's dashboard: one server-sent event a second (/dashboard/events) redraws the figures, the uPlot
// charts and the tables. Plain browser JavaScript, no build step; uPlot is served from node_modules.
/* global uPlot */
const $ = (id) => document.getElementById(id);
const MAX_POINTS = 300;
const COLORS = ['#1f5fbf', '#c0392b', '#2e8540', '#8e44ad', '#b9770e', '#117a8b'];
const charts = new Map();
const series = [];
let paused = false;

const fmt = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
const pct = (x, digits = 1) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)} %`);
const ms = (x) =>
  x === null || x === undefined
    ? '–'
    : x < 1
      ? `${(x * 1000).toFixed(0)} µs`
      : x < 1000
        ? `${x.toFixed(2)} ms`
        : `${(x / 1000).toFixed(2)} s`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function setFigure(id, text, value) {
  const node = $(id);
  node.textContent = text;
  if (value !== undefined) node.dataset.value = String(value);
}

function chartWidth(target) {
  return Math.max(240, target.clientWidth || 320);
}

/** A chart by id, created (or re-created when its series change) with the given series names. */
function chart(id, names, kind) {
  const target = $(id);
  const key = names.join('\u0000');
  const existing = charts.get(id);
  if (existing && existing.key === key) return existing.plot;
  if (existing) existing.plot.destroy();
  const bars = kind === 'bars';
  const opts = {
    width: chartWidth(target),
    height: 180,
    legend: { show: true },
    scales: { x: bars ? { time: false, range: (_u, min, max) => [min - 0.6, max + 0.6] } : { time: true } },
    axes: bars
      ? [
          {
            values: (_u, splits) =>
              splits.map((i) => (Number.isInteger(i) ? (charts.get(id)?.labels?.[i] ?? '') : '')),
          },
          {},
        ]
      : [{}, {}],
    series: [
      {},
      ...names.map((name, i) =>
        bars
          ? {
              label: name,
              stroke: COLORS[i % COLORS.length],
              fill: `${COLORS[i % COLORS.length]}88`,
              paths: uPlot.paths.bars({ size: [0.8, 60] }),
              points: { show: false },
            }
          : { label: name, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true },
      ),
    ],
  };
  const plot = new uPlot(opts, [[], ...names.map(() => [])], target);
  plot.root.setAttribute('aria-hidden', 'true');
  charts.set(id, { key, plot, labels: [] });
  return plot;
}

function setLine(id, names, pick) {
  const plot = chart(id, names, 'lines');
  const data = [series.map((p) => p.t), ...names.map((name, i) => series.map((p) => pick(p, name, i)))];
  plot.setData(data);
  $(id).dataset.points = String(series.length);
}

function setBars(id, labels, values, name) {
  const plot = chart(id, [name], 'bars');
  charts.get(id).labels = labels;
  plot.setData([labels.map((_l, i) => i), values]);
  $(id).dataset.points = String(values.filter((v) => v > 0).length);
}

function summary(id, text) {
  $(id).setAttribute('aria-label', text);
}

function drawSeries() {
  setLine('chart-carousels', ['carousels/s', 'errors/s'], (p, _n, i) =>
    i === 0 ? p.carouselsPerSecond : p.errorsPerSecond,
  );
  const last = series[series.length - 1];
  summary('chart-carousels', `Carousels per second, latest ${fmt(last?.carouselsPerSecond)}`);
  setLine('chart-latency', ['p50', 'p99', 'p99.9'], (p, _n, i) => [p.p50Ms, p.p99Ms, p.p999Ms][i]);
  summary(
    'chart-latency',
    `Server time p50 ${ms(last?.p50Ms)}, p99 ${ms(last?.p99Ms)}, p99.9 ${ms(last?.p999Ms)}`,
  );
  setLine('chart-freshness', ['p50', 'p99'], (p, _n, i) => [p.freshnessP50Ms, p.freshnessP99Ms][i]);
  summary(
    'chart-freshness',
    `Click to cache, p50 ${ms(last?.freshnessP50Ms)}, p99 ${ms(last?.freshnessP99Ms)}`,
  );
  const topics = [...new Set(series.flatMap((p) => Object.keys(p.topics)))].sort();
  setLine('chart-topics', [...topics, 'applied by topology'], (p, name, i) =>
    i < topics.length ? (p.topics[name] ?? null) : p.appliedPerSecond,
  );
  summary(
    'chart-topics',
    `Records per second: ${topics.map((t) => `${t} ${fmt(last?.topics[t] ?? 0)}`).join(', ')}`,
  );
}

function drawServing(s) {
  const t = s.serving.totals;
  const p = s.point;
  setFigure('fig-carousels', fmt(p.carouselsPerSecond), p.carouselsPerSecond);
  setFigure('fig-p50', ms(p.p50Ms));
  setFigure('fig-p99', ms(p.p99Ms));
  setFigure('fig-p999', ms(p.p999Ms));
  setFigure('fig-errors', `${t.errors} (${fmt(p.errorsPerSecond)}/s)`, t.errors);
  setFigure('fig-shed', String(t.eventsShed), t.eventsShed);
  setFigure('fig-connections', String(t.connections), t.connections);
  setFigure('fig-subscriptions', String(t.subscriptions), t.subscriptions);
  setFigure('fig-model', t.modelVersion || '–');
  const b = s.serving.batchSizes;
  setBars(
    'chart-batches',
    b.bounds.map((x, i) => (i === 0 ? `${x}` : `≤${x}`)),
    b.counts,
    'model runs',
  );
  summary(
    'chart-batches',
    `Model runs by batch size: ${b.bounds.map((x, i) => `≤${x}: ${b.counts[i]}`).join(', ')}`,
  );
  const scores = s.serving.scores;
  $('scores-note').hidden = scores !== null;
  if (scores === null) $('scores-note').textContent = 'No topic tail in this process: scores are not read.';
  else {
    $('score-model').textContent = scores.model || 'no impressions yet';
    const n = scores.bins.length;
    setBars(
      'chart-scores',
      scores.bins.map((_c, i) => (i / n).toFixed(2)),
      scores.bins,
      'items shown',
    );
    summary('chart-scores', `Shown items by model score, ${scores.bins.reduce((a, c) => a + c, 0)} in all`);
  }
}

function drawStream(s) {
  const topo = s.stream.topology;
  setFigure(
    'fig-topology',
    topo === null
      ? 'not in this process'
      : topo.running
        ? `running (${topo.restarts} restarts)`
        : 'not running',
  );
  setFigure('fig-applied', fmt(s.point.appliedPerSecond));
  setFigure('fig-lag', s.point.lag === null ? '–' : String(s.point.lag), s.point.lag ?? '');
  const cache = s.stream.cache;
  const p = s.point;
  setFigure('fig-freshness-p50', ms(p.freshnessP50Ms), p.freshnessP50Ms ?? '');
  setFigure('fig-freshness-p99', ms(p.freshnessP99Ms), p.freshnessP99Ms ?? '');
  const note = $('freshness-note');
  note.hidden = cache !== null && cache.clicks > 0;
  note.textContent =
    cache === null
      ? 'No change-feed cache in this process: freshness is not measured.'
      : 'No click reached the cache in the last 10 s.';
  setFigure('fig-apply-delay', cache === null ? '–' : ms(cache.applyDelayMs));
  setFigure('fig-sync-age', cache === null ? '–' : `${ms(cache.syncAgeMs)} ago`);
  setFigure('fig-held', cache === null ? '–' : String(cache.heldPartitions + cache.rebuildingPartitions));
  const lag = Object.entries(topo?.lagByPartition ?? {}).sort(([a], [b]) => a.localeCompare(b));
  setBars(
    'chart-lag',
    lag.map(([k]) => k),
    lag.map(([, v]) => v),
    'records behind',
  );
  summary(
    'chart-lag',
    `Lag per partition: ${lag.map(([k, v]) => `${k} ${v}`).join(', ') || 'no partitions'}`,
  );
  const body = $('dead-letters').tBodies[0];
  const dead = Object.entries(topo?.deadLetters ?? {});
  body.replaceChildren(
    ...(dead.length === 0
      ? [el('tr', {}, el('td', { colspan: '2', text: 'none' }))]
      : dead.map(([code, n]) =>
          el('tr', {}, el('th', { scope: 'row', text: code }), el('td', { text: String(n) })),
        )),
  );
}

function intervalBar(row) {
  const bar = el('span', {
    class: 'interval',
    role: 'img',
    'aria-label': `mean ${pct(row.mean)}, 95 % interval ${pct(row.low)} to ${pct(row.high)}`,
  });
  bar.append(
    el('span', { class: 'range', style: `left:${row.low * 100}%;width:${(row.high - row.low) * 100}%` }),
    el('span', { class: 'mean', style: `left:${row.mean * 100}%` }),
  );
  return bar;
}

function posteriorTable(caption, rows) {
  const table = el('table', { class: 'data posteriors' }, el('caption', { text: caption }));
  table.append(
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Item', 'Shown', 'Clicks', 'Mean', '95 % interval'].map((h) =>
          el('th', { scope: 'col', text: h }),
        ),
      ),
    ),
  );
  const body = el('tbody');
  for (const r of rows) {
    body.append(
      el(
        'tr',
        {},
        el('th', { scope: 'row', text: r.title ? `${r.itemId} · ${r.title}` : r.itemId }),
        el('td', { text: fmt(r.impressions, 0) }),
        el('td', { text: fmt(r.clicks, 0) }),
        el('td', { text: pct(r.mean) }),
        el('td', {}, intervalBar(r)),
      ),
    );
  }
  if (rows.length === 0) body.append(el('tr', {}, el('td', { colspan: '5', text: 'no item shown yet' })));
  table.append(body);
  return table;
}

function drawLearning(s) {
  $('segments').replaceChildren(
    ...s.learning.segments.map((seg) => {
      const name = seg.segment === '*' ? 'all segments' : `segment ${seg.segment}`;
      return el(
        'div',
        { class: 'segment' },
        el('h3', { text: `${name} (${seg.shown} items shown)` }),
        posteriorTable(`Highest posterior mean, ${name}`, seg.highest),
        posteriorTable(`Most uncertain, ${name}`, seg.mostUncertain),
      );
    }),
  );
  const shadow = s.learning.shadow;
  if (shadow === null) {
    $('shadow').replaceChildren(
      el('p', { class: 'note', text: 'No topic tail in this process: slates are not read.' }),
    );
  } else if (shadow.length === 0) {
    $('shadow').replaceChildren(
      el('p', {
        class: 'note',
        text: 'No shadow policy configured: add "shadow": { "policy": "greedy" } to the experiments config (PUT /admin/experiments) to compare the served slate with greedy\'s.',
      }),
    );
  } else {
    $('shadow').replaceChildren(
      ...shadow.map((c) => {
        const share = c.slots > 0 ? c.differ / c.slots : 0;
        return el(
          'p',
          { class: 'shadow-row' },
          `${c.policy}: ${pct(share)} of ${c.slots} shown slots differ `,
          el('meter', {
            min: '0',
            max: '1',
            value: String(share),
            'aria-label': `share of slots that differ from ${c.policy}`,
          }),
        );
      }),
    );
  }
}

/** An estimate with its interval, as percentages. */
const pctInterval = (e, digits = 2) =>
  `${pct(e.estimate, digits)} [${pct(e.ci[0], digits)}, ${pct(e.ci[1], digits)}]`;

/** A data table with its caption and column heads; returns it with its (empty) body appended. */
function headedTable(attrs, caption, heads) {
  const table = el('table', attrs, el('caption', { text: caption }));
  table.append(el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', text: h })))));
  const body = el('tbody');
  table.append(body);
  return { table, body };
}

function experimentTable(x) {
  const { table, body } = headedTable(
    { class: 'data experiment', 'data-experiment': x.name },
    `${x.name}${x.control ? ` (control: ${x.control})` : ''}`,
    ['Variant', 'Impressions', 'Clicks', 'CTR (95 % CI)', 'Lift over control', 'P(best)', 'Expected loss'],
  );
  for (const v of x.variants) {
    body.append(
      el(
        'tr',
        { 'data-variant': v.name },
        el('th', { scope: 'row', text: v.name }),
        el('td', { text: String(v.impressions) }),
        el('td', { text: String(v.clicks) }),
        el('td', { text: `${pct(v.ctr, 2)}${v.ci ? ` [${pct(v.ci[0], 2)}, ${pct(v.ci[1], 2)}]` : ''}` }),
        el('td', { text: v.lift ? pctInterval(v.lift, 1) : '–' }),
        el('td', { text: v.probabilityBest === null ? '–' : pct(v.probabilityBest) }),
        el('td', { text: v.expectedLoss === null ? '–' : v.expectedLoss.toExponential(2) }),
      ),
    );
  }
  const notes = el('div', { class: 'experiment-notes' });
  if (x.alwaysValid) {
    const a = x.alwaysValid;
    notes.append(
      el('p', {
        text: `Always-valid (mSPRT) interval of the CTR difference: ${pct(a.estimate, 2)} [${pct(a.ci[0], 2)}, ${pct(a.ci[1], 2)}], p = ${a.pValue.toPrecision(3)} — valid however often this page is read.`,
      }),
    );
  }
  if (x.srm) {
    notes.append(
      el('p', {
        class: x.srm.mismatch ? 'alert' : '',
        text: `Sample-ratio check of users per variant (${x.srm.users.join(' / ')}): p = ${x.srm.pValue.toPrecision(3)}${x.srm.mismatch ? ' — the split does not match the configured weights; do not trust these results' : ' (split as configured)'}.`,
      }),
    );
  }
  notes.append(el('p', { class: 'verdict', text: `Verdict: ${x.verdict}` }));
  return el('div', { class: 'experiment-block' }, table, notes);
}

function drawExperiments(s) {
  const e = s.experiments;
  const blocks = e.rows.map(experimentTable);
  const seen = new Set(e.rows.map((x) => x.name));
  const waiting = e.configured.filter((n) => !seen.has(n));
  if (waiting.length > 0)
    blocks.push(el('p', { class: 'note', text: `Configured, no impressions yet: ${waiting.join(', ')}.` }));
  if (!e.tailing)
    blocks.push(
      el('p', { class: 'note', text: 'No topic tail in this process: experiments are not counted.' }),
    );
  if (blocks.length === 0)
    blocks.push(
      el('p', {
        class: 'note',
        text: 'No experiment running: configure one with PUT /admin/experiments (admin token) or model.experimentsFile.',
      }),
    );
  $('experiment-list').replaceChildren(...blocks);
}

/** A list of facts (term, description) as a description list. */
function facts(rows) {
  return el(
    'dl',
    { class: 'facts' },
    ...rows.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v }))),
  );
}

function drawArchive(a) {
  if (a === null) {
    $('job-archive').replaceChildren(
      el('p', { class: 'note', text: 'The archive does not run in this process.' }),
    );
    return;
  }
  $('job-archive').replaceChildren(
    facts([
      ['Records archived', String(a.records)],
      ['Files committed', String(a.files)],
      ['Bytes', String(a.bytes)],
      ['Records/s', String(a.recordsPerSecond)],
      ['Lag, records', String(Object.values(a.lag).reduce((x, y) => x + y, 0))],
      [
        'Failures',
        Object.entries(a.failures)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ') || 'none',
      ],
      ['Last error', a.lastError ?? 'none'],
    ]),
  );
}

const when = (ms) => (ms === null || ms === undefined ? '–' : new Date(ms).toLocaleString());
const dec = (x, digits = 4) => (typeof x === 'number' ? x.toFixed(digits) : '–');

/** The facts of a job's last run: when, its status, the interval it covered, why it failed or was skipped. */
function runFacts(run, schedule, job) {
  const rows = [['Schedule', schedule ?? `not scheduled by this config (croupier jobs run ${job} runs one)`]];
  if (run === null) return rows;
  rows.push(
    ['Last run', `${run.status} · ${when(run.finishedAt ?? run.startedAt)}`],
    ['Data interval', `${when(run.start)} – ${when(run.end)}`],
  );
  if (run.attempts > 1) rows.push(['Attempts', String(run.attempts)]);
  if (run.error) rows.push(['Error', run.error]);
  if (run.result && typeof run.result.skipped === 'string') rows.push(['Skipped', run.result.skipped]);
  return rows;
}

/** The panel of a job when the ledger cannot be read (or has no record): says so plainly. */
function jobNote(j, id, run, none) {
  const node = $(id);
  if (!j.reported) {
    node.replaceChildren(el('p', { class: 'note', text: 'No run ledger in this process.' }));
    return true;
  }
  if (j.report === null) {
    node.replaceChildren(
      el('p', {
        class: 'note',
        text: j.reportError
          ? `Cannot read the run ledger or the model registry: ${j.reportError}`
          : 'reading the run ledger…',
      }),
    );
    return true;
  }
  node.dataset.status = run?.status ?? 'none';
  if (run === null) node.dataset.none = none;
  else delete node.dataset.none;
  return false;
}

function drawTraining(j) {
  const t = j.report?.training;
  if (jobNote(j, 'job-training', t?.lastRun ?? null, 'train')) return;
  const rows = runFacts(t.lastRun, t.schedule, 'train');
  rows.push(['Active model', t.activeModel]);
  if (t.candidate !== null) {
    const m = t.candidate.metrics;
    rows.push(
      ['Candidate', t.candidate.version],
      ['Holdout log loss', `${dec(m.holdoutLogLoss)} (${dec(m.logLossMinusActive)} vs active)`],
      ['Holdout AUC', dec(m.holdoutAuc, 3)],
      ['Holdout ECE', dec(m.holdoutEce)],
      ['Holdout rows', String(m.holdoutRows ?? '–')],
    );
  }
  const parts = [];
  if (t.lastRun === null) {
    parts.push(
      el('p', {
        class: 'note',
        text: 'No training run in the run ledger yet: the train job records one when it runs (croupier jobs run train triggers one now).',
      }),
    );
  }
  parts.push(facts(rows));
  if (t.gate !== null) {
    parts.push(
      el('p', {
        class: 'verdict',
        text: t.gate.promoted
          ? `Gate: promoted ${t.candidate?.version ?? ''}, every check passed`
          : `Gate: kept ${t.candidate?.version ?? ''} as a candidate, ${t.gate.checks.filter((c) => c.startsWith('FAIL')).length} check(s) failed`,
      }),
      el('ul', { class: 'checks' }, ...t.gate.checks.map((c) => el('li', { text: c }))),
    );
  } else if (t.lastRun !== null && t.candidate !== null) {
    parts.push(el('p', { class: 'note', text: 'The run did not ask the gate (jobs.train.promote is off).' }));
  }
  $('job-training').replaceChildren(...parts);
}

function drawWatch(j) {
  const w = j.report?.watch;
  if (jobNote(j, 'job-watch', w?.lastRun ?? null, 'watch')) return;
  const rows = [
    [
      'Watching',
      w.watching === null
        ? 'no promotion under watch'
        : `${w.watching.to} over ${w.watching.from}, promoted ${when(Date.parse(w.watching.at))}`,
    ],
  ];
  const look = w.lastRun?.result;
  if (look && typeof look.status === 'string')
    rows.push(['Last look', `${look.status}${look.reason ? `: ${look.reason}` : ''}`]);
  if (w.lastEvent !== null)
    rows.push([
      'Last registry change',
      `${w.lastEvent.action} ${w.lastEvent.from} → ${w.lastEvent.to} (${when(Date.parse(w.lastEvent.at))}): ${w.lastEvent.reason}`,
    ]);
  $('job-watch').replaceChildren(facts([...runFacts(w.lastRun, w.schedule, 'watch'), ...rows]));
}

function shadowTable(r) {
  const { table, body } = headedTable({ class: 'data' }, 'CTR per impression, doubly robust, 95 % interval', [
    'Policy',
    'CTR',
    'Lift over logged',
    'Verdict',
  ]);
  body.append(
    el(
      'tr',
      {},
      el('th', { scope: 'row', text: `logged (${r.logged.policies.join(', ')})` }),
      el('td', { text: pct(r.logged.ctr, 2) }),
      el('td', { text: '–' }),
      el('td', { text: 'observed' }),
    ),
  );
  for (const c of r.candidates) {
    body.append(
      el(
        'tr',
        { 'data-candidate': c.label },
        el('th', { scope: 'row', text: c.label }),
        el('td', { text: pctInterval(c.ctr) }),
        el('td', { text: pctInterval(c.lift) }),
        el('td', { text: c.verdict }),
      ),
    );
  }
  return table;
}

function drawShadowJob(j) {
  const sh = j.report?.shadow;
  if (jobNote(j, 'job-shadow', sh?.lastRun ?? null, 'shadow')) return;
  const run = sh.lastRun;
  const parts = [];
  if (run === null) {
    parts.push(
      el('p', {
        class: 'note',
        text: 'No shadow test in the run ledger yet: the shadow job records one when it runs (croupier jobs run shadow triggers one now).',
      }),
    );
  }
  const rows = runFacts(run, sh.schedule, 'shadow');
  const r = run?.result;
  if (r && Array.isArray(r.candidates)) {
    rows.push(['Carousels evaluated', `${r.carousels} (${r.impressions} impressions)`], ['Report', r.report]);
    parts.push(facts(rows), shadowTable(r));
  } else parts.push(facts(rows));
  $('job-shadow').replaceChildren(...parts);
}

function drawJobs(s) {
  drawArchive(s.jobs.archive);
  drawTraining(s.jobs);
  drawWatch(s.jobs);
  drawShadowJob(s.jobs);
}

function draw(s) {
  drawSeries();
  drawServing(s);
  drawStream(s);
  drawLearning(s);
  drawExperiments(s);
  drawJobs(s);
}

function connect() {
  const source = new EventSource('/dashboard/events');
  source.addEventListener('history', (event) => {
    series.splice(0, series.length, ...JSON.parse(event.data).slice(-MAX_POINTS));
    if (series.length > 0) drawSeries();
  });
  source.addEventListener('snapshot', (event) => {
    const snapshot = JSON.parse(event.data);
    series.push(snapshot.point);
    if (series.length > MAX_POINTS) series.shift();
    $('status').textContent = `live · updated ${new Date(snapshot.point.t * 1000).toLocaleTimeString()}`;
    if (!paused) draw(snapshot);
  });
  source.addEventListener('error', () => {
    $('status').textContent = 'reconnecting… (is croupier running, and is the admin token still valid?)';
  });
}

$('pause').addEventListener('click', () => {
  paused = !paused;
  $('pause').setAttribute('aria-pressed', String(paused));
  $('pause').textContent = paused ? 'Resume updates' : 'Pause updates';
});

new ResizeObserver(() => {
  for (const [id, { plot }] of charts) plot.setSize({ width: chartWidth($(id)), height: 180 });
}).observe(document.body);

// A token in the address bar was kept in a cookie by the server: take it out of the history.
if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname);
connect();
