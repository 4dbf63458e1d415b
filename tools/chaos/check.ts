/**
 * Checks a chaos history: `node dist/tools/chaos/check.js <history.jsonl> [--html out.html]
 * [--json out.json]` prints the summary, writes the timeline and the JSON report if asked,
 * and exits 1 on any violation. The runner calls `checkHistory` on the history it holds, so a
 * run and a later re-check of its file give the same answer.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type HistoryEvent, readHistory } from './history.js';
import { buildReport, type ChaosOptions, type ChaosReport, renderJson, renderSummary } from './report.js';
import { renderTimeline } from './timeline.js';

export interface CheckHistoryOptions extends ChaosOptions {
  /** Write the HTML timeline here. */
  readonly htmlPath?: string;
  /** Write the JSON report here. */
  readonly jsonPath?: string;
}

export interface CheckHistoryResult {
  readonly report: ChaosReport;
  /** The text summary; its last line is `chaos: N violations`. */
  readonly summary: string;
  /** True when no checker found a violation. */
  readonly ok: boolean;
}

/** Runs every checker; writes only the files named in the options, prints nothing. */
export function checkHistory(
  events: readonly HistoryEvent[],
  options: CheckHistoryOptions = {},
): CheckHistoryResult {
  const report = buildReport(events, options);
  if (options.htmlPath !== undefined) writeFileSync(options.htmlPath, renderTimeline(events, report));
  if (options.jsonPath !== undefined) writeFileSync(options.jsonPath, renderJson(report));
  return { report, summary: renderSummary(report), ok: report.violations.length === 0 };
}

const USAGE = 'usage: node dist/tools/chaos/check.js <history.jsonl> [--html out.html] [--json out.json]';

function parseArgs(argv: readonly string[]): { history: string; htmlPath?: string; jsonPath?: string } {
  let history: string | undefined;
  const out: { htmlPath?: string; jsonPath?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--html' || arg === '--json') {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a file name`);
      out[arg === '--html' ? 'htmlPath' : 'jsonPath'] = value;
    } else if (arg.startsWith('-') || history !== undefined) {
      throw new Error(`unexpected argument ${arg}`);
    } else {
      history = arg;
    }
  }
  if (history === undefined) throw new Error('no history file given');
  return { history, ...out };
}

function main(): void {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const { history, ...files } = args;
  const result = checkHistory(readHistory(history), files);
  console.log(result.summary);
  if (files.htmlPath !== undefined) console.log(`timeline: ${files.htmlPath}`);
  if (files.jsonPath !== undefined) console.log(`report: ${files.jsonPath}`);
  process.exit(result.ok ? 0 : 1);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
