/**
 * The short fixed-seed chaos run that `npm test` carries (the long runs are `npm run chaos`):
 * a 5-node cluster under every kind of fault for 30 s (and at least one fault of each kind:
 * they are dealt like cards), then healed, drained and checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { checkHistory } from '../../../tools/chaos/check.js';
import { FAULT_KINDS } from '../../../tools/chaos/fault-plan.js';
import { runChaos } from '../../../tools/chaos/run.js';

t.test('a short chaos run finds no violation and reports availability', async (t) => {
  const outDir = mkdtempSync(join(tmpdir(), 'lockstep-chaos-'));
  const lines: string[] = [];
  const run = await runChaos({
    faultMs: 30_000,
    minFaults: FAULT_KINDS.length,
    seed: 20261123,
    outDir,
    quietMs: [1000, 1500],
    holdMs: [2000, 3000],
    log: (line) => lines.push(line),
  });
  const { report, summary, ok } = checkHistory(run.recorder.events, {
    htmlPath: join(outDir, 'timeline.html'),
  });
  t.comment(summary);
  t.ok(run.drained, 'every queue drained after the heal');
  t.ok(ok, 'no violation');
  t.equal(report.violations.length, 0);
  const planned = lines.filter((l) => l.startsWith('fault ')).join('\n');
  for (const kind of FAULT_KINDS) {
    const seen =
      kind === 'kill' ? 'kill -9' : kind === 'pause' ? 'SIGSTOP' : kind === 'skew' ? 'clock of' : `${kind}:`;
    t.match(planned, seen, `the run injected ${kind}`);
  }
  t.ok(report.queues.pushes.ok > 100, `${report.queues.pushes.ok} acknowledged pushes checked`);
  t.ok(report.locks.holds > 50, `${report.locks.holds} lock holds checked`);
  t.match(summary, /availability/);
  t.match(summary, /recovery/);
  t.match(summary, /chaos: 0 violations/);
  if (t.passing()) rmSync(outDir, { recursive: true, force: true });
  else t.comment(`kept ${outDir} (history.jsonl, timeline.html, logs/)`);
});
