import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Test } from 'tap';
import { AclStore } from '../../src/acl/store.js';
import { commandTable } from '../../src/commands/table.js';
import { loadConfig } from '../../src/config/load.js';
import { effectiveBind } from '../../src/config/protected-mode.js';
import { configView } from '../../src/config/view.js';
import { type RunningNode, startNode } from '../../src/node.js';

export type TestNode = RunningNode;

/**
 * Starts a node in this process on an ephemeral loopback port, configured exactly as the real
 * binary would be from `args`, and stops it (and removes its data dir) when the test ends.
 */
export async function startTestNode(
  t: Test,
  args: readonly string[] = [],
  aclText: string | null = null,
): Promise<TestNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-test-'));
  const config = loadConfig({
    argv: ['--port', '0', '--bus-port', '0', '--http-port', '0', '--id', 'n1', '--data', dataDir, ...args],
    env: {},
  });
  const authenticator = AclStore.fromText(aclText, {
    requirepass: config.requirepass,
    commands: [...commandTable.all()].map((spec) => spec.name),
  });
  const node = await startNode({
    config,
    logger: pino({ level: 'silent' }),
    authenticator,
    bindHost: effectiveBind(config),
    configView: () => configView(config),
  });
  t.teardown(async () => {
    await node.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return node;
}
