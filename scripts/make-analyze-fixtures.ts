/**
 * Writes the small experiment files `croupier analyze` is tested on (test/fixtures/analyze): a two-variant
 * JSON-lines file, a three-variant CSV and an Avro object container, all from a fixed seed.
 * Run: node --import tsx scripts/make-analyze-fixtures.ts
 */
import { writeFileSync } from 'node:fs';
import avro from 'avsc';
import { createRng } from '../src/stats/rng.ts';
import { loadSchemas } from '../streams/schemas/index.ts';

const OUT = new URL('../test/fixtures/analyze/', import.meta.url);
const rng = createRng(20261130);

interface Arm {
  name: string;
  n: number;
  click: number;
  convert: number;
  watch: number;
}

function* events(arms: Arm[]) {
  for (const arm of arms) {
    for (let i = 0; i < arm.n; i++) {
      yield {
        variant: arm.name,
        clicked: rng.next() < arm.click ? 1 : 0,
        converted: rng.next() < arm.convert ? 1 : 0,
        watch_time: Math.round(arm.watch * Math.exp(0.8 * rng.normal()) * 100) / 100,
      };
    }
  }
}

const two = [
  ...events([
    { name: 'control', n: 1500, click: 0.1, convert: 0.02, watch: 30 },
    { name: 'treatment', n: 1530, click: 0.13, convert: 0.026, watch: 33 },
  ]),
];
writeFileSync(new URL('experiment.jsonl', OUT), `${two.map((e) => JSON.stringify(e)).join('\n')}\n`);

const three = [
  ...events([
    { name: 'A', n: 800, click: 0.1, convert: 0.02, watch: 30 },
    { name: 'B', n: 820, click: 0.11, convert: 0.02, watch: 34 },
    { name: 'C', n: 790, click: 0.1, convert: 0.02, watch: 29 },
  ]),
];
writeFileSync(
  new URL('experiment-3way.csv', OUT),
  `variant,clicked,converted,watch_time\n${three.map((e) => `${e.variant},${e.clicked},${e.converted},${e.watch_time}`).join('\n')}\n`,
);

const schema: avro.Schema = {
  type: 'record',
  name: 'ExperimentEvent',
  namespace: 'croupier.analyze',
  fields: [
    { name: 'variant', type: 'string' },
    { name: 'clicked', type: 'boolean' },
    { name: 'watch_time', type: 'double' },
  ],
};
const encoder = avro.createFileEncoder(new URL('experiment.avro', OUT).pathname, schema);
for (const e of two)
  encoder.write({ variant: e.variant, clicked: e.clicked === 1, watch_time: e.watch_time });
encoder.end();

// The clickstream as the topic carries it: Impression and Click records in one Avro container whose schema
// is their union; `analyze` joins each click to its impression's variant.
const schemas = loadSchemas();
const union = avro.Type.forSchema([schemas.Impression.schema(), schemas.Click.schema()] as avro.Schema);
const clickstream = avro.createFileEncoder(
  new URL('clickstream.avro', OUT).pathname,
  union.schema() as avro.Schema,
);
for (let r = 0; r < 400; r++) {
  const variant = r % 2 === 0 ? 'control' : 'treatment';
  const ctr = variant === 'control' ? 0.08 : 0.12;
  const requestId = `req-${r}`;
  const timestamp = 1_790_000_000_000 + r * 1000;
  for (let slot = 0; slot < 3; slot++) {
    const itemId = `item-${(r * 7 + slot) % 50}`;
    clickstream.write({
      'croupier.events.Impression': {
        eventId: `imp-${r}-${slot}`,
        requestId,
        userId: `user-${r % 97}`,
        itemId,
        slot,
        policy: 'thompson',
        modelVersion: 'v1',
        propensity: 0.5,
        score: null,
        experiment: 'carousel-ranking',
        variant,
        segment: null,
        context: null,
        timestamp,
      },
    });
    if (rng.next() < ctr) {
      const click = {
        eventId: `clk-${r}-${slot}`,
        requestId,
        userId: `user-${r % 97}`,
        itemId,
        slot,
        segment: null,
      };
      clickstream.write({ 'croupier.events.Click': { ...click, timestamp: timestamp + 500 } });
      // A double click on the same item counts once.
      if (rng.next() < 0.1)
        clickstream.write({ 'croupier.events.Click': { ...click, timestamp: timestamp + 900 } });
    }
  }
}
clickstream.end();
