/**
 * Self-contained SVG line charts (no script, no external font or stylesheet), for the reports of the simulator,
 * the load generator and the benchmarks (with plain-text and Markdown tables). Several panels stack vertically.
 */

export interface LineSeries {
  label: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Dashed line (bounds, references). */
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Logarithmic x axis (all x > 0). */
  logX?: boolean;
  /** Labels of x ticks, by value, instead of numbers (log axes of percentiles). */
  xTicks?: ReadonlyArray<readonly [number, string]>;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const WIDTH = 760;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 70, right: 170, top: 34, bottom: 46 };

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled < 1.5 ? 1 : scaled < 3 ? 2 : scaled < 7 ? 5 : 10) * power;
}

function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toPrecision(3)}k`;
  return `${+value.toPrecision(4)}`;
}

function renderPanel(panel: Panel, offsetY: number): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const all = panel.series.flatMap((s) => s.points);
  const fx = (x: number) => (panel.logX ? Math.log10(x) : x);
  const xs = all.map(([x]) => fx(x));
  const ys = all.map(([, y]) => y);
  const xMin = panel.logX ? Math.min(...xs) : Math.min(0, ...xs);
  const xMax = Math.max(...xs, xMin + 1e-9);
  const yMin = Math.min(0, ...ys);
  const yStep = niceStep(Math.max(...ys, 1e-9) - yMin, 5);
  const yMax = Math.ceil(Math.max(...ys, 1e-9) / yStep) * yStep;
  const px = (x: number) => MARGIN.left + ((fx(x) - xMin) / (xMax - xMin || 1)) * plotW;
  const py = (y: number) => offsetY + MARGIN.top + plotH - ((y - yMin) / (yMax - yMin || 1)) * plotH;
  const out: string[] = [];
  out.push(
    `<text x="${MARGIN.left}" y="${offsetY + 20}" font-size="15" font-weight="bold">${escapeXml(panel.title)}</text>`,
  );
  out.push(
    `<rect x="${MARGIN.left}" y="${offsetY + MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );
  for (let y = yMin; y <= yMax + yStep / 2; y += yStep) {
    const yy = py(y).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${yy}" y2="${yy}" stroke="#eee"/>`);
    out.push(
      `<text x="${MARGIN.left - 6}" y="${yy}" font-size="11" text-anchor="end" dy="4">${formatTick(y)}</text>`,
    );
  }
  const xTicks: Array<readonly [number, string]> = panel.xTicks
    ? [...panel.xTicks]
    : (() => {
        const step = niceStep(xMax - xMin, 6);
        const ticks: Array<[number, string]> = [];
        for (let x = Math.ceil(xMin / step) * step; x <= xMax + 1e-9; x += step)
          ticks.push([x, formatTick(x)]);
        return ticks;
      })();
  for (const [x, label] of xTicks) {
    const xx = px(x).toFixed(1);
    const base = offsetY + MARGIN.top + plotH;
    out.push(`<line x1="${xx}" x2="${xx}" y1="${base}" y2="${base + 4}" stroke="#999"/>`);
    out.push(
      `<text x="${xx}" y="${base + 16}" font-size="11" text-anchor="middle">${escapeXml(label)}</text>`,
    );
  }
  out.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${offsetY + PANEL_HEIGHT - 8}" font-size="12" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(16 ${offsetY + MARGIN.top + plotH / 2}) rotate(-90)" font-size="12" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
  );
  panel.series.forEach((series, i) => {
    const color = PALETTE[i % PALETTE.length];
    const d = series.points.map(
      ([x, y], k) => `${k === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`,
    );
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<path d="${d.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    const ly = offsetY + MARGIN.top + 14 + i * 18;
    const lx = MARGIN.left + plotW + 12;
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`,
    );
    out.push(`<text x="${lx + 28}" y="${ly}" font-size="12">${escapeXml(series.label)}</text>`);
  });
  return out.join('\n');
}

/** One SVG document with the panels stacked top to bottom. */
export function renderSvg(title: string, panels: readonly Panel[]): string {
  const height = 40 + panels.length * PANEL_HEIGHT;
  const body = panels.map((panel, i) => renderPanel(panel, 40 + i * PANEL_HEIGHT)).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="26" font-size="18" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

/** A plain-text table with right-aligned numeric columns. */
export function textTable(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => String(r[c] ?? '').length)));
  const line = (r: ReadonlyArray<string | number>) =>
    r
      .map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c])))
      .join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A Markdown table. */
export function markdownTable(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** One row of an interval chart: a point estimate with its interval. */
export interface IntervalRow {
  label: string;
  estimate: number;
  lo: number;
  hi: number;
  /** Rows of one group share a color (an estimator, a policy). */
  group?: string;
}

/**
 * A self-contained SVG of estimates with their intervals, one row each (a dot and a whisker), on a shared x axis,
 * with an optional dashed reference line (the logged value).
 */
export function renderIntervalSvg(
  title: string,
  xLabel: string,
  rows: readonly IntervalRow[],
  reference?: { label: string; value: number },
): string {
  const rowHeight = 22;
  const left = 300;
  const right = 40;
  const top = 50;
  const plotW = WIDTH - left - right;
  const height = top + rows.length * rowHeight + 60;
  const values = rows.flatMap((r) => [r.lo, r.hi, r.estimate]).filter(Number.isFinite);
  if (reference) values.push(reference.value);
  let min = Math.min(...values, 0);
  let max = Math.max(...values, 1e-9);
  const pad = (max - min) * 0.05;
  min -= pad;
  max += pad;
  const step = niceStep(max - min, 6);
  const px = (x: number) => left + ((x - min) / (max - min || 1)) * plotW;
  const groups = [...new Set(rows.map((r) => r.group ?? ''))];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="26" font-size="16" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  const bottom = top + rows.length * rowHeight;
  for (let x = Math.ceil(min / step) * step; x <= max + 1e-12; x += step) {
    const xx = px(x).toFixed(1);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${top - 6}" y2="${bottom}" stroke="#eee"/>`);
    out.push(
      `<text x="${xx}" y="${bottom + 16}" font-size="11" text-anchor="middle">${formatTick(x)}</text>`,
    );
  }
  if (reference) {
    const xx = px(reference.value).toFixed(1);
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${top - 10}" y2="${bottom}" stroke="#555" stroke-dasharray="6 4"/>`,
      `<text x="${xx}" y="${top - 14}" font-size="11" text-anchor="middle">${escapeXml(reference.label)}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight + rowHeight / 2;
    const color = PALETTE[groups.indexOf(row.group ?? '') % PALETTE.length];
    out.push(
      `<text x="${left - 8}" y="${y + 4}" font-size="12" text-anchor="end">${escapeXml(row.label)}</text>`,
    );
    if (Number.isFinite(row.lo) && Number.isFinite(row.hi)) {
      out.push(
        `<line x1="${px(row.lo).toFixed(1)}" x2="${px(row.hi).toFixed(1)}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/>`,
      );
    }
    if (Number.isFinite(row.estimate)) {
      out.push(`<circle cx="${px(row.estimate).toFixed(1)}" cy="${y}" r="4" fill="${color}"/>`);
    }
  });
  out.push(
    `<text x="${left + plotW / 2}" y="${bottom + 40}" font-size="12" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}
