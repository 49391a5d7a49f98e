/**
 * The gateway's event log per dealt carousel: the bytes of one Carousel record (with and without its feature rows)
 * against the ten Impression records it replaces, and the gateway-side CPU of building, encoding (Avro, Confluent
 * wire format) and producing them with kafkajs (acks = all) to the embedded broker, which runs in its own process
 * so its CPU is not counted. Sends go out as the event log's pump sends them at 1,000 carousels/s: 20 carousels per
 * 20 ms batch, one batch at a time. The two forms alternate, round after round, in one process. Prints a table and
 * writes bench/results/event-log.json.
 *
 *   npm run bench:event-log [-- --carousels 3000 --rounds 6 --per-send 20]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { Decision } from '../src/domain/decision.ts';
import type { QueuedEvent } from '../src/gateway/event-buffer.ts';
import { carouselRecord } from '../src/gateway/event-records.ts';
import { EventSender } from '../src/gateway/event-sender.ts';
import { createEventCodec } from '../src/kafka/index.ts';
import { silentLogger } from '../src/log/logger.ts';
import { startSchemaRegistry } from '../src/registry/index.ts';
import { parseFeatureSpec } from '../src/scoring/feature-spec.ts';
import { carouselImpressions } from '../streams/schemas/carousel-impressions.ts';
import { type Carousel, loadSchemas } from '../streams/schemas/index.ts';
import { startBrokerProcess } from './broker-process.ts';

const { values: args } = parseArgs({
  options: {
    carousels: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '6' },
    'per-send': { type: 'string', default: '20' },
  },
});
const CAROUSELS = Number(args.carousels);
const ROUNDS = Number(args.rounds);
const PER_SEND = Number(args['per-send']);
const SLOTS = 10;
const TOPIC = 'clickstream';

const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8')) as {
  models: { featureSpecHash: string }[];
};
const WIDTH = parseFeatureSpec(JSON.parse(readFileSync('models/feature-spec.json', 'utf8'))).width;

/** A dealt decision as the decider returns it: 10 shown items, their scored rows, Thompson propensities. */
function decisionOf(i: number): Decision {
  const features = new Float32Array(SLOTS * WIDTH);
  for (let k = 0; k < features.length; k++) features[k] = k % 5 === 0 ? 1 : Math.random() * 3;
  return {
    requestId: randomUUID(),
    userId: `u${String(i % 5000).padStart(5, '0')}`,
    items: Array.from({ length: SLOTS }, (_, slot) => ({
      itemId: `item-${String((i * 7 + slot * 13) % 400).padStart(4, '0')}`,
      slot,
      score: Math.random() * 0.2,
      sample: Math.random(),
      propensity: 0.01 + Math.random() * 0.5,
    })),
    policy: 'thompson',
    modelVersion: 'default-1',
    experiment: null,
    variant: null,
    segment: 'mobile|premium',
    shadow: null,
    timings: { featuresUs: 0, scoringUs: 0, samplingUs: 0 },
    features,
    featureSpecHash: manifest.models[0].featureSpecHash,
  };
}

const context = { device: 'mobile', country: 'DE', page: 'home' };

/** What the gateway queued per carousel before: one Impression per shown item. */
function impressionEvents(decision: Decision, timestamp: number): QueuedEvent[] {
  const carousel = carouselRecord(decision, context, timestamp).value as Carousel;
  return carouselImpressions(carousel).map((value) => ({
    schema: 'Impression',
    key: decision.userId,
    timestamp,
    value: { ...value, eventId: randomUUID() },
  }));
}

type Form = 'impressions' | 'carousel';
const build: Record<Form, (d: Decision, t: number) => QueuedEvent[]> = {
  impressions: impressionEvents,
  carousel: (d, t) => [carouselRecord(d, context, t)],
};

const round1 = (v: number) => Math.round(v * 10) / 10;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const loadAtStart = Math.round(os.loadavg()[0] * 100) / 100;
  const logger = silentLogger();
  const [broker, registry] = await Promise.all([
    startBrokerProcess(4),
    startSchemaRegistry({ host: '127.0.0.1', port: 0, logger }),
  ]);
  const kafka = new Kafka({
    brokers: [broker.address],
    clientId: 'bench-event-log',
    logLevel: logLevel.NOTHING,
  });
  const codec = createEventCodec({ registryUrl: registry.url, schemas: loadSchemas() });
  const sender = new EventSender(kafka, codec, TOPIC, logger);
  try {
    // Bytes: the Avro values in the wire format (5-byte header) plus the keys, per carousel.
    const sample = Array.from({ length: 200 }, (_, i) => decisionOf(i));
    const bytesOf = async (events: QueuedEvent[]) => {
      let n = 0;
      for (const e of events)
        n += (await codec.encode(TOPIC, e.schema, e.value as never)).length + e.key.length;
      return n;
    };
    let impressionBytes = 0;
    let carouselBytes = 0;
    let carouselBytesNoRows = 0;
    for (const d of sample) {
      impressionBytes += await bytesOf(impressionEvents(d, 1_764_475_200_000));
      carouselBytes += await bytesOf([carouselRecord(d, context, 1_764_475_200_000)]);
      carouselBytesNoRows += await bytesOf([
        carouselRecord({ ...d, features: undefined }, context, 1_764_475_200_000),
      ]);
    }
    const bytes = {
      impressions: Math.round(impressionBytes / sample.length),
      carousel: Math.round(carouselBytes / sample.length),
      carouselWithoutRows: Math.round(carouselBytesNoRows / sample.length),
      featureRowFloats: WIDTH,
    };

    // CPU: build, encode and produce, one send of PER_SEND carousels at a time.
    const decisions = Array.from({ length: CAROUSELS }, (_, i) => decisionOf(i));
    const cpuUs: Record<Form, number[]> = { impressions: [], carousel: [] };
    const forms: Form[] = ['impressions', 'carousel'];
    for (let r = -1; r < ROUNDS; r++) {
      for (const form of r % 2 === 0 ? forms : [...forms].reverse()) {
        const started = process.cpuUsage();
        for (let i = 0; i < decisions.length; i += PER_SEND) {
          const batch: QueuedEvent[] = [];
          const t = Date.now();
          for (let k = i; k < Math.min(i + PER_SEND, decisions.length); k++)
            batch.push(...build[form](decisions[k], t));
          await sender.send(batch);
        }
        const used = process.cpuUsage(started);
        if (r >= 0) cpuUs[form].push((used.user + used.system) / decisions.length);
      }
    }
    if (sender.invalid > 0) throw new Error(`${sender.invalid} events could not be encoded`);

    const result = {
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        loadAtStart,
        loadAtEnd: Math.round(os.loadavg()[0] * 100) / 100,
      },
      settings: { carousels: CAROUSELS, rounds: ROUNDS, carouselsPerSend: PER_SEND, slots: SLOTS },
      bytesPerCarousel: bytes,
      cpuUsPerCarousel: Object.fromEntries(
        forms.map((form) => [
          form,
          {
            median: round1(median(cpuUs[form])),
            min: round1(Math.min(...cpuUs[form])),
            max: round1(Math.max(...cpuUs[form])),
          },
        ]),
      ),
      ratio: Math.round((median(cpuUs.impressions) / median(cpuUs.carousel)) * 100) / 100,
    };
    process.stdout.write(
      `event log per carousel (${SLOTS} items, ${WIDTH} features per row), ${CAROUSELS} carousels × ${ROUNDS} rounds, ` +
        `${PER_SEND} per send, load ${result.machine.loadAtStart} → ${result.machine.loadAtEnd}\n`,
    );
    process.stdout.write(
      `bytes: ${bytes.impressions} as ${SLOTS} Impressions, ${bytes.carousel} as one Carousel ` +
        `(${bytes.carouselWithoutRows} without the feature rows)\n`,
    );
    for (const form of forms) {
      const c = result.cpuUsPerCarousel[form];
      process.stdout.write(
        `${form.padEnd(12)} CPU µs/carousel median ${c.median} (min ${c.min}, max ${c.max})\n`,
      );
    }
    process.stdout.write(`Impressions / Carousel CPU: ${result.ratio}×\n`);
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/event-log.json', `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await sender.close();
    broker.child.kill('SIGTERM');
    await registry.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
