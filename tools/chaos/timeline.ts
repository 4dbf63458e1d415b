/**
 * The chaos run as one self-contained HTML page (inline SVG, no scripts, no external assets,
 * so it opens anywhere and can be attached to a bug): faults per node, who led each group,
 * throughput and errors per workload, phases and violations on one time axis, under the
 * summary. Lining these up is how a violation or a slow recovery gets explained.
 *
 * Every piece of text from the history (node ids, keys, error messages, descriptions) is
 * escaped: a key name is whatever a client sent.
 */
import { type FaultKind, faultIntervals, naturalCompare, runSpan } from './fault-intervals.js';
import { groupBy, type HistoryEvent, type Outcome, outcomeOf, pairOps, type Workload } from './history.js';
import { type ChaosReport, renderSummary } from './report.js';

const WIDTH = 1400;
const LABEL = 140;
const RIGHT = 24;
const PLOT = WIDTH - LABEL - RIGHT;
const NODE_ROW = 28;
const LEADER_ROW = 16;
const CHART = 56;
const MAX_VIOLATION_MARKS = 300;

const FAULT_COLORS: Record<FaultKind, string> = {
  killed: '#d62728',
  paused: '#ff7f0e',
  minority: '#9467bd',
  partitioned: '#c5b0d5',
  skewed: '#17becf',
};
const FAULT_LABELS: Record<FaultKind, string> = {
  killed: 'killed (kill -9 until restart)',
  paused: 'paused (SIGSTOP until SIGCONT)',
  minority: 'partitioned into a minority',
  partitioned: 'partitioned, still reaching a majority',
  skewed: 'clock skewed',
};
/** Where in a node's row each fault is drawn: the process, the network, the clock. */
const FAULT_BAND: Record<FaultKind, readonly [number, number]> = {
  killed: [3, 9],
  paused: [3, 9],
  minority: [13, 9],
  partitioned: [13, 9],
  skewed: [23, 4],
};
const OUTCOME_COLORS: Record<Outcome, string> = { ok: '#2ca02c', fail: '#8c564b', info: '#bcbd22' };
const NODE_COLORS = ['#1f77b4', '#e377c2', '#7f7f7f', '#8c564b', '#bcbd22', '#17becf', '#393b79', '#637939'];
const PHASE_COLOR = '#444';
const VIOLATION_COLOR = '#e00';

/** Text safe in HTML and SVG content and in attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const n1 = (x: number): string => x.toFixed(1);

export function renderTimeline(events: readonly HistoryEvent[], report: ChaosReport): string {
  const span = runSpan(events);
  const duration = Math.max(1, span.endMs - span.startMs);
  const x = (t: number): number => LABEL + ((t - span.startMs) / duration) * PLOT;
  const nodes = [...report.run.nodes];
  const nodeColor = (node: string): string =>
    NODE_COLORS[Math.max(0, nodes.indexOf(node)) % NODE_COLORS.length]!;
  const parts: string[] = [];
  let y = 34;
  parts.push(axis(span.startMs, span.endMs, x, y));
  y += 8;

  parts.push(heading('nodes', y));
  y += 14;
  const faults = groupBy(faultIntervals(events, nodes), (f) => f.node);
  for (const node of nodes) {
    parts.push(
      `<rect x="${LABEL}" y="${y}" width="${PLOT}" height="${NODE_ROW - 2}" fill="#f4f4f4"/>`,
      `<rect x="6" y="${y + 8}" width="10" height="10" fill="${nodeColor(node)}"/>`,
      `<text x="20" y="${y + 17}">${escapeHtml(node)}</text>`,
    );
    for (const f of faults.get(node) ?? []) {
      const [dy, h] = FAULT_BAND[f.kind];
      const title = `${node} ${f.kind} ${secs(f.startMs)}–${secs(f.endMs)}${f.ended ? '' : ' (until the end)'} ${f.detail}`;
      parts.push(bar(x(f.startMs), y + dy, x(f.endMs) - x(f.startMs), h, FAULT_COLORS[f.kind], title));
    }
    y += NODE_ROW;
  }

  y += 8;
  parts.push(heading('leaders', y));
  y += 14;
  for (const [group, segments] of leaderSegments(events, span.endMs)) {
    parts.push(`<text x="6" y="${y + 12}">group ${escapeHtml(group)}</text>`);
    for (const s of segments) {
      const title = `group ${group}: ${s.node} led ${secs(s.startMs)}–${secs(s.endMs)}`;
      parts.push(
        bar(x(s.startMs), y + 2, x(s.endMs) - x(s.startMs), LEADER_ROW - 4, nodeColor(s.node), title),
      );
    }
    y += LEADER_ROW;
  }

  y += 8;
  const binMs = 1000 * Math.max(1, Math.ceil(duration / 1000 / (PLOT / 2)));
  parts.push(heading(`ops per ${binMs / 1000} s (ok, fail, info stacked)`, y));
  y += 14;
  for (const [workload, ops] of [...groupBy(pairOps(events), (op) => op.invoke.workload)].sort()) {
    parts.push(chart(workload, ops, span.startMs, binMs, x, y));
    y += CHART + 6;
  }

  y += 4;
  parts.push(heading(`violations (${report.violations.length})`, y));
  y += 14;
  parts.push(`<rect x="${LABEL}" y="${y}" width="${PLOT}" height="14" fill="#fbeaea"/>`);
  for (const v of report.violations.slice(0, MAX_VIOLATION_MARKS)) {
    for (const op of v.ops) {
      const start = op.invoke.timeMs;
      const end = op.completion?.timeMs ?? span.endMs;
      parts.push(bar(x(start), y + 1, Math.max(2, x(end) - x(start)), 12, VIOLATION_COLOR, v.description));
    }
  }
  y += 22;

  const height = y;
  for (const e of events) {
    if (e.type !== 'phase') continue;
    const px = n1(x(e.timeMs));
    parts.push(
      `<line x1="${px}" y1="22" x2="${px}" y2="${height}" stroke="${PHASE_COLOR}" stroke-dasharray="4 3"><title>phase ${escapeHtml(e.phase)} at ${secs(e.timeMs)}</title></line>`,
      `<text x="${px}" y="12" text-anchor="middle" class="phase">${escapeHtml(e.phase)}</text>`,
    );
  }

  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">\n${parts.join('\n')}\n</svg>`;
  return page(report, svg);
}

function page(report: ChaosReport, svg: string): string {
  const swatch = (color: string, label: string): string =>
    `<span class="key"><i style="background:${color}"></i>${escapeHtml(label)}</span>`;
  const legend = [
    ...(Object.keys(FAULT_COLORS) as FaultKind[]).map((k) => swatch(FAULT_COLORS[k], FAULT_LABELS[k])),
    ...(Object.keys(OUTCOME_COLORS) as Outcome[]).map((k) => swatch(OUTCOME_COLORS[k], `op ${k}`)),
    swatch(VIOLATION_COLOR, 'op in a violation'),
    swatch(PHASE_COLOR, 'phase marker'),
    '<span class="key">leader lanes use the node colors shown beside each node</span>',
  ].join('\n');
  const violations = report.violations
    .map((v) => `<li><b>${escapeHtml(`${v.checker}/${v.kind}`)}</b> ${escapeHtml(v.description)}</li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lockstep chaos run: ${report.violations.length} violations</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
.key { display: inline-block; margin-right: 14px; }
.key i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; }
svg text { font: 11px system-ui, sans-serif; fill: #222; }
svg text.heading { font-weight: bold; }
svg text.phase { fill: #444; }
</style>
</head>
<body>
<h1>lockstep chaos run</h1>
<pre>${escapeHtml(renderSummary(report))}</pre>
<div class="legend">
${legend}
</div>
${svg}
<details${report.violations.length > 0 ? ' open' : ''}><summary>${report.violations.length} violations</summary>
<ol>
${violations}
</ol>
</details>
</body>
</html>
`;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

function heading(text: string, y: number): string {
  return `<text x="6" y="${y + 10}" class="heading">${escapeHtml(text)}</text>`;
}

function bar(x: number, y: number, width: number, height: number, color: string, title: string): string {
  return `<rect x="${n1(x)}" y="${n1(y)}" width="${n1(Math.max(1, width))}" height="${n1(height)}" fill="${color}"><title>${escapeHtml(title)}</title></rect>`;
}

/** Time ticks at a round step, about a dozen across. */
function axis(startMs: number, endMs: number, x: (t: number) => number, y: number): string {
  const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].map((s) => s * 1000);
  const step = steps.find((s) => (endMs - startMs) / s <= 14) ?? steps[steps.length - 1]!;
  const out = [`<line x1="${LABEL}" y1="${y}" x2="${LABEL + PLOT}" y2="${y}" stroke="#999"/>`];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) {
    const px = n1(x(t));
    out.push(
      `<line x1="${px}" y1="${y - 4}" x2="${px}" y2="${y}" stroke="#999"/>`,
      `<text x="${px}" y="${y - 6}" text-anchor="middle">${t / 1000}s</text>`,
    );
  }
  return out.join('\n');
}

interface LeaderSegment {
  readonly node: string;
  readonly startMs: number;
  endMs: number;
}

/** Per group, who led from one sample to the next (a group missing from a sample had no leader). */
function leaderSegments(events: readonly HistoryEvent[], endMs: number): [string, LeaderSegment[]][] {
  const out = new Map<string, LeaderSegment[]>();
  const open = new Map<string, LeaderSegment>();
  for (const e of events) {
    if (e.type !== 'leaders') continue;
    for (const [group, seg] of [...open]) {
      seg.endMs = e.timeMs;
      if (e.leaders[group] !== seg.node) open.delete(group);
    }
    for (const [group, node] of Object.entries(e.leaders)) {
      if (open.has(group)) continue;
      const seg: LeaderSegment = { node, startMs: e.timeMs, endMs: e.timeMs };
      open.set(group, seg);
      const segments = out.get(group);
      if (segments === undefined) out.set(group, [seg]);
      else segments.push(seg);
    }
  }
  for (const seg of open.values()) seg.endMs = endMs;
  return [...out].sort((a, b) => naturalCompare(a[0], b[0]));
}

/** Stacked per-bin counts of ok, fail and info completions of one workload. */
function chart(
  workload: Workload,
  ops: ReturnType<typeof pairOps>,
  startMs: number,
  binMs: number,
  x: (t: number) => number,
  y: number,
): string {
  const bins = new Map<number, Record<Outcome, number>>();
  for (const op of ops) {
    if (op.completion === undefined) continue;
    const bin = Math.floor((op.completion.timeMs - startMs) / binMs);
    const counts = bins.get(bin) ?? { ok: 0, fail: 0, info: 0 };
    counts[outcomeOf(op)]++;
    bins.set(bin, counts);
  }
  const max = Math.max(1, ...[...bins.values()].map((c) => c.ok + c.fail + c.info));
  const scale = (CHART - 4) / max;
  const out = [
    `<rect x="${LABEL}" y="${y}" width="${PLOT}" height="${CHART}" fill="#fafafa" stroke="#ddd"/>`,
    `<text x="6" y="${y + 14}">${escapeHtml(workload)}</text>`,
    `<text x="6" y="${y + 28}" class="phase">max ${max}/bin</text>`,
  ];
  for (const [bin, counts] of bins) {
    const left = x(startMs + bin * binMs);
    // The last bin may run past the end of the history: cut it at the plot's edge.
    const width = Math.min(x(startMs + (bin + 1) * binMs), LABEL + PLOT) - left;
    let base = y + CHART;
    for (const outcome of ['ok', 'fail', 'info'] as const) {
      const h = counts[outcome] * scale;
      if (h === 0) continue;
      base -= h;
      out.push(
        bar(
          left,
          base,
          width,
          h,
          OUTCOME_COLORS[outcome],
          `${workload} ${outcome} ${counts[outcome]} at ${secs(bin * binMs)}`,
        ),
      );
    }
  }
  return out.join('\n');
}
