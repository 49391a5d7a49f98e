// Where a thread's CPU went, from a V8 .cpuprofile (node --cpu-prof; bench:loadtest with CROUPIER_CPU_PROF=DIR):
// self time by function and by file as shares of the busy (non-idle) time, and optionally the inclusive time of
// the functions whose "name file:line" matches a regular expression.
//
//   node scripts/cpuprofile-summary.mjs FILE.cpuprofile [top=30] [inclusive-regex]
import { readFileSync } from 'node:fs';

const [file, topArg, inclusive] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node scripts/cpuprofile-summary.mjs FILE.cpuprofile [top=30] [inclusive-regex]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const top = Number(topArg ?? 30);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const timeOf = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const where = (n) => n.callFrame.url.split('/').slice(-2).join('/');
const nameOf = (n) =>
  `${n.callFrame.functionName || '(anonymous)'} ${where(n)}:${n.callFrame.lineNumber + 1}`;
let total = 0;
let idle = 0;
const self = new Map();
const files = new Map();
for (const [id, t] of timeOf) {
  const n = byId.get(id);
  total += t;
  if (n.callFrame.functionName === '(idle)') {
    idle += t;
    continue;
  }
  self.set(nameOf(n), (self.get(nameOf(n)) ?? 0) + t);
  const f = where(n) || n.callFrame.functionName;
  files.set(f, (files.get(f) ?? 0) + t);
}
const busy = total - idle;
const pct = (t) => `${((100 * t) / busy).toFixed(1).padStart(5)} %`;
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);
};
console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / total).toFixed(0)} %)`,
);
print('self time by function (share of busy time)', self);
print('self time by file', files);
if (inclusive !== undefined) {
  const re = new RegExp(inclusive);
  const inc = new Map();
  for (const [id, t] of timeOf) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = nameOf(byId.get(cur));
      if (re.test(k) && !seen.has(k)) {
        seen.add(k);
        inc.set(k, (inc.get(k) ?? 0) + t);
      }
    }
  }
  print(`inclusive time of functions matching /${inclusive}/`, inc);
}
