import fc from 'fast-check';
import type { Reply } from '../../src/resp/reply.js';
import { COMMAND_NAMES, commandArb, fillRecent, KEYS } from './command-args.js';
import { FuzzNode } from './fuzz-node.js';
import { check, type FuzzProperty } from './property.js';
import { replyProblem } from './reply-check.js';

/**
 * Every command's argument parser, through the real dispatch path of a real in-process node
 * (fuzz-node.ts), with argument vectors from the command table (command-args.ts). Each run is a
 * short sequence of commands against the node's accumulated state. For every command:
 *
 * - the dispatcher neither throws nor rejects, and no handler fails internally (logged error);
 * - the reply is a well-formed RESP reply; an error reply carries a known code;
 * - an error reply leaves the state byte-identical: compared right away when the refusal came
 *   synchronously (the parser refused it), or when no entry was applied meanwhile; and every
 *   entry a state machine refuses leaves that machine unchanged (checked inside the node).
 *
 * Blocking commands (LOCK.ACQUIRE WAIT, Q.POP BLOCK) get DEADLINE_MS; then the client "leaves"
 * (its session closes, as on a disconnect) and the late reply is still checked when it comes.
 * The node is replaced every RECYCLE_AFTER commands so that its state (and the cost of
 * snapshotting it around every command) stays small.
 */

const DEADLINE_MS = 30;
const RECYCLE_AFTER = 2000;

interface Figures {
  [name: string]: number;
  commands: number;
  errorReplies: number;
  refusalsCheckedSync: number;
  refusalsCheckedAsync: number;
  refusedEntriesChecked: number;
  blocked: number;
  nodes: number;
}

const sleep = (ms: number) => new Promise<null>((resolve) => setTimeout(() => resolve(null), ms));
const show = (argv: readonly Buffer[]) => JSON.stringify(argv.map((a) => a.toString('latin1')));

export const commandsProperty: FuzzProperty = {
  name: 'commands/dispatch',
  async setup() {
    let node = await FuzzNode.start(KEYS);
    let sinceStart = 0;
    const figures: Figures = {
      commands: 0,
      errorReplies: 0,
      refusalsCheckedSync: 0,
      refusalsCheckedAsync: 0,
      refusedEntriesChecked: 0,
      blocked: 0,
      nodes: 1,
      commandNames: COMMAND_NAMES.length,
    };
    const late = new Set<Promise<void>>();
    const problems: string[] = [];
    const onUncaught = (err: unknown) =>
      problems.push(`uncaught: ${err instanceof Error ? err.stack : String(err)}`);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);

    /** Stops at the first problem anywhere: in this command, a late reply, the node's log or apply checks. */
    const healthy = (argv: readonly Buffer[]): void => {
      const v = node.violations[0];
      check(v === undefined, () => `${v!.what} (during or before ${show(argv)})\n${v!.detail}`);
      check(problems.length === 0, () => `${problems[0]} (during or before ${show(argv)})`);
    };

    const wellFormed = (argv: readonly Buffer[], reply: Reply): void => {
      const problem = replyProblem(reply);
      check(problem === null, () => `${show(argv)}: ${problem}`);
    };

    /** Message ids and tokens from recent replies, newest first, for `fillRecent`. */
    const recent: string[] = [];
    const remember = (reply: Reply): void => {
      if (reply.t === 'int' && typeof reply.v === 'number' && reply.v > 0) recent.unshift(String(reply.v));
      else if (reply.t === 'bulk' && /^\d{1,16}-\d{1,4}$/.test(String(reply.v)))
        recent.unshift(String(reply.v));
      else if (reply.t === 'array') for (const item of reply.v.slice(0, 4)) remember(item);
      recent.length = Math.min(recent.length, 8);
    };

    const runOne = async (generated: Buffer[]): Promise<void> => {
      const argv = fillRecent(generated, recent);
      figures.commands++;
      sinceStart++;
      const before = node.fingerprint();
      const appliesBefore = node.applies;
      let result: Reply | Promise<Reply>;
      try {
        result = node.execute(argv);
      } catch (err) {
        throw new Error(
          `dispatcher threw on ${show(argv)}: ${err instanceof Error ? err.stack : String(err)}`,
        );
      }
      let reply: Reply;
      if (result instanceof Promise) {
        const settled = await Promise.race([
          result.then(
            (r) => ({ r }),
            (e: unknown) => ({ e }),
          ),
          sleep(DEADLINE_MS),
        ]);
        if (settled === null) {
          figures.blocked++;
          node.replaceSession();
          const done: Promise<void> = result.then(
            (r) => {
              const problem = replyProblem(r);
              if (problem !== null) problems.push(`late reply to ${show(argv)}: ${problem}`);
            },
            (e: unknown) => {
              problems.push(`late rejection of ${show(argv)}: ${String(e)}`);
            },
          );
          late.add(done);
          void done.finally(() => late.delete(done));
          return;
        }
        if ('e' in settled)
          throw new Error(`dispatcher promise rejected on ${show(argv)}: ${String(settled.e)}`);
        reply = settled.r;
        wellFormed(argv, reply);
        if (reply.t === 'error' && node.applies === appliesBefore) {
          figures.refusalsCheckedAsync++;
          check(
            node.fingerprint() === before,
            () => `state changed on refused ${show(argv)}: ${reply.t === 'error' && reply.v}`,
          );
        }
      } else {
        reply = result;
        wellFormed(argv, reply);
        if (reply.t === 'error') {
          figures.refusalsCheckedSync++;
          check(
            node.fingerprint() === before,
            () => `state changed on refused ${show(argv)}: ${reply.t === 'error' && reply.v}`,
          );
        }
      }
      if (reply.t === 'error') figures.errorReplies++;
      else remember(reply);
      if (node.session.closeAfterReply) node.replaceSession();
    };

    const recycle = async (): Promise<void> => {
      figures.refusedEntriesChecked += node.rejectedApplies;
      const old = node;
      await old.close();
      await Promise.race([Promise.allSettled([...late]), sleep(2000)]);
      node = await FuzzNode.start(KEYS);
      figures.nodes++;
      sinceStart = 0;
    };

    return {
      property: fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 4 }), async (commands) => {
        if (sinceStart >= RECYCLE_AFTER) await recycle();
        for (const argv of commands) {
          await runOne(argv);
          healthy(argv);
        }
      }),
      params: { endOnFailure: true },
      figures: () => ({
        ...figures,
        refusedEntriesChecked: figures.refusedEntriesChecked + node.rejectedApplies,
      }),
      async teardown() {
        try {
          await node.close();
          await Promise.race([Promise.allSettled([...late]), sleep(2000)]);
        } finally {
          process.off('uncaughtException', onUncaught);
          process.off('unhandledRejection', onUncaught);
        }
      },
    };
  },
};
