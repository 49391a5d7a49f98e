/** The CDC source's lines of a Prometheus `/metrics` page (text format 0.0.4). */
import type { CdcMetricsSnapshot } from './source.ts';

export function renderCdcMetrics(m: CdcMetricsSnapshot): string {
  const slot = `slot="${m.slot.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  const lines = [
    '# HELP croupier_cdc_records_total Change records the PostgreSQL source sent and Kafka acknowledged, by op (t: a truncate, counted once for all its partitions).',
    '# TYPE croupier_cdc_records_total counter',
    ...(['r', 'c', 'u', 'd', 't'] as const).map(
      (op) => `croupier_cdc_records_total{${slot},op="${op}"} ${m.sent[op]}`,
    ),
    '# HELP croupier_cdc_rows_refused_total Changes not sent because their row holds more text or tags than a row may.',
    '# TYPE croupier_cdc_rows_refused_total counter',
    `croupier_cdc_rows_refused_total{${slot}} ${m.refused}`,
    '# HELP croupier_cdc_streaming 1 while the source streams changes; 0 once it stopped, and while it starts again after a lost connection.',
    '# TYPE croupier_cdc_streaming gauge',
    `croupier_cdc_streaming{${slot}} ${m.streaming ? 1 : 0}`,
    '# HELP croupier_cdc_standby 1 while the source stands by: another source (another croupier with this cdc.slot) streams the slot.',
    '# TYPE croupier_cdc_standby gauge',
    `croupier_cdc_standby{${slot}} ${m.standby ? 1 : 0}`,
    '# HELP croupier_cdc_confirmed_lsn The replication slot position the source confirmed (bytes of WAL).',
    '# TYPE croupier_cdc_confirmed_lsn gauge',
    `croupier_cdc_confirmed_lsn{${slot}} ${m.confirmedLsn}`,
  ];
  if (m.lag !== null) {
    lines.push(
      '# HELP croupier_cdc_slot_lag_bytes WAL the replication slot holds back on the database server (bytes since its restart position).',
      '# TYPE croupier_cdc_slot_lag_bytes gauge',
      `croupier_cdc_slot_lag_bytes{${slot}} ${m.lag.retainedBytes}`,
      "# HELP croupier_cdc_slot_unconfirmed_bytes WAL written since the slot's confirmed position (bytes).",
      '# TYPE croupier_cdc_slot_unconfirmed_bytes gauge',
      `croupier_cdc_slot_unconfirmed_bytes{${slot}} ${m.lag.unconfirmedBytes}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
