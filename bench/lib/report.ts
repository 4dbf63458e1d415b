/**
 * Turns scenario results into the Markdown table (also the README snippet) and the JSON file.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { ScenarioResult, SideResult } from './compare.js';
import { which } from './processes.js';
import { LOCKSTEP_LABEL } from './targets.js';

export interface MachineInfo {
  cpuCount: number;
  cpuModel: string;
  node: string;
  redisBenchmark: string;
  redisServer: string;
  /** 1-minute load average when the run started: other work on this machine skews results. */
  loadAverageAtStart: number;
}

function toolVersion(cmd: string): string {
  if (which(cmd) === undefined) return 'not installed';
  try {
    const output = execFileSync(cmd, ['--version'], { encoding: 'utf8', timeout: 5_000 });
    // `redis-benchmark 7.0.15` / `Redis server v=7.0.15 sha=...`
    return /(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? output.trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  return {
    cpuCount: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    redisBenchmark: toolVersion('redis-benchmark'),
    redisServer: toolVersion('redis-server'),
    loadAverageAtStart: Number(os.loadavg()[0]!.toFixed(2)),
  };
}

const formatRps = (rps: number): string => Math.round(rps).toLocaleString('en-US');
const formatMs = (ms: number): string => ms.toFixed(3);

/** Footnotes shared by all cells with the same reason, numbered in order of appearance. */
class Notes {
  readonly #reasons: string[] = [];
  ref(side: SideResult): string {
    // The first line only: log tails are in the JSON and were printed when the error happened.
    const firstLine = (side.reason ?? 'no reason given').split('\n')[0];
    const reason = `${side.label} ${side.status}: ${firstLine}`;
    let index = this.#reasons.indexOf(reason);
    if (index < 0) index = this.#reasons.push(reason) - 1;
    return `${side.status} [${index + 1}]`;
  }
  lines(): string[] {
    return this.#reasons.map((r, i) => `- [${i + 1}] ${r}`);
  }
}

function cells(side: SideResult, notes: Notes): { rps: string; latency: string } {
  if (side.status !== 'ok') return { rps: notes.ref(side), latency: '—' };
  return {
    rps: formatRps(side.rps!),
    latency: `${formatMs(side.p50LatencyMs!)} / ${formatMs(side.p99LatencyMs!)}`,
  };
}

function ratioCell(result: ScenarioResult): string {
  if (result.ratio === undefined) return '—';
  const noise = result.noisy ? ` · noisy: rounds ${result.ratioSpread!.toFixed(1)}× apart` : '';
  return `${result.ratio.toFixed(2)} ${result.verdict} (≥ ${result.targetRatio})${noise}`;
}

export function markdownTable(results: readonly ScenarioResult[]): string {
  const notes = new Notes();
  const header = [
    '| scenario | peer | lockstep rps | peer rps | ratio | lockstep p50/p99 ms | peer p50/p99 ms |',
    '|---|---|--:|--:|---|--:|--:|',
  ];
  const rows = results.map((r) => {
    const ours = cells(r.lockstep, notes);
    const theirs = cells(r.peerSide, notes);
    const name = `${r.suite}: ${r.scenario}`;
    return `| ${name} | ${r.peer} | ${ours.rps} | ${theirs.rps} | ${ratioCell(r)} | ${ours.latency} | ${theirs.latency} |`;
  });
  const footnotes = notes.lines();
  return [...header, ...rows, ...(footnotes.length > 0 ? ['', ...footnotes] : [])].join('\n');
}

export interface RunSummary {
  generatedAt: string;
  /** True when the lockstep column is a second redis-server (harness self-test). */
  selfTest: boolean;
  lockstepLabel: string;
  machine: MachineInfo;
  rounds: number;
  quick: boolean;
  durationMs: number;
  results: ScenarioResult[];
}

/** The block to paste into the README: context line, then the table. */
export function readmeSnippet(summary: RunSummary): string {
  const m = summary.machine;
  const mode = summary.quick ? ' (`--quick`, fewer requests)' : '';
  const context =
    `Measured ${summary.generatedAt.slice(0, 10)} on ${m.cpuCount} × ${m.cpuModel}, Node ${m.node}, ` +
    `redis-benchmark ${m.redisBenchmark} vs redis-server ${m.redisServer}; median of ${summary.rounds} ` +
    `interleaved round${summary.rounds === 1 ? '' : 's'}${mode}; load average ${m.loadAverageAtStart} at start. The load generator ` +
    'and the servers share the same cores.';
  const warning = summary.selfTest
    ? [`**SELF-TEST: the lockstep column is ${LOCKSTEP_LABEL}, not lockstep. Do not publish.**`, '']
    : [];
  return [...warning, context, '', markdownTable(summary.results)].join('\n');
}
