/**
 * The embedded schema registry of `croupier start` runs on a thread of its own, so what it parses never holds the
 * gateway's thread. On that thread, one client registering 5.5 MB schemas in a loop held carousels up to 4 s.
 */
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startEmbeddedServices } from '../../src/app/embedded.ts';
import { parseConfig } from '../../src/config/index.ts';
import { CroupierError } from '../../src/errors/index.ts';
import { startSchemaRegistryThread } from '../../src/registry/index.ts';

describe('embedded schema registry', () => {
  it('answers while the thread that started it is busy, and logs through its logger', async () => {
    // Only the registry is embedded: the broker and Redis are "configured" (and never contacted).
    const config = parseConfig({
      kafka: { brokers: ['127.0.0.1:1'] },
      redis: { url: 'redis://127.0.0.1:1' },
    });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const services = await startEmbeddedServices(config, logger);
    let answer: string;
    try {
      const body = JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'R', fields: [] }) });
      // spawnSync holds this thread until curl ends: a registry served from it could not answer.
      answer = spawnSync(
        'curl',
        [
          '-s',
          '--max-time',
          '10',
          '-H',
          'content-type: application/json',
          '-d',
          body,
          `${services.endpoints.registryUrl}/subjects/while-busy-value/versions`,
        ],
        { encoding: 'utf8' },
      ).stdout;
    } finally {
      await services.close();
    }
    expect(JSON.parse(answer || 'null')).toMatchObject({ id: 1, subject: 'while-busy-value', version: 1 });
    const listening = lines
      .map((line) => JSON.parse(line))
      .find((e) => e.msg === 'schema registry listening');
    expect(listening).toMatchObject({ level: 30, component: 'schema-registry' });
  });

  it('refuses a port in use with the error a registry on this thread gives', async () => {
    const first = await startSchemaRegistryThread();
    try {
      const error = await startSchemaRegistryThread({ port: first.port }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CroupierError);
      expect((error as CroupierError).code).toBe('CROUPIER_ERR_PORT_UNAVAILABLE');
    } finally {
      await first.close();
    }
  });

  it('ends a registry thread stuck in a loop, reports it, and still closes', async () => {
    const stopped: number[] = [];
    const registry = await startSchemaRegistryThread({
      watchdogMs: 1500,
      onExit: (code) => stopped.push(code),
    });
    registry.hang();
    const deadline = Date.now() + 30_000;
    while (stopped.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toHaveLength(1);
    // Closing a thread that is gone returns (before, close waited for an exit that had come already, or never).
    await registry.close();
  });

  it('closes a stuck registry thread without a watchdog, by ending it', async () => {
    const stopped: number[] = [];
    const registry = await startSchemaRegistryThread({ onExit: (code) => stopped.push(code) });
    registry.hang();
    await registry.close();
    // Closed by its owner: not reported as an unexpected stop.
    expect(stopped).toEqual([]);
  });
});
