#!/usr/bin/env node
/**
 * `lockstep-server`: reads the configuration, starts one node, stops it cleanly on SIGTERM or
 * SIGINT. Wiring only; everything else lives in the layers `node.ts` assembles.
 */
import { existsSync, readFileSync } from 'node:fs';
import { pino } from 'pino';
import { AclStore } from './acl/store.js';
import { commandTable } from './commands/table.js';
import { helpRequested, loadConfig } from './config/load.js';
import { effectiveBind } from './config/protected-mode.js';
import { usage } from './config/reference.js';
import type { Config } from './config/schema.js';
import { configView } from './config/view.js';
import { startNode } from './node.js';

function readConfig(): Config {
  const argv = process.argv.slice(2);
  if (helpRequested(argv)) {
    process.stdout.write(usage());
    process.exit(0);
  }
  const dotenvText = existsSync('.env') ? readFileSync('.env', 'utf8') : undefined;
  return loadConfig({ argv, env: process.env, dotenvText });
}

async function main(): Promise<void> {
  let config: Config;
  let acl: AclStore;
  try {
    config = readConfig();
    const aclText = config.aclFile === null ? null : readFileSync(config.aclFile, 'utf8');
    acl = AclStore.fromText(aclText, {
      requirepass: config.requirepass,
      commands: [...commandTable.all()].map((spec) => spec.name),
    });
  } catch (err) {
    // One clear line and exit 1: the operator's mistake, not a crash.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`lockstep: ${message}\n`);
    process.exit(1);
  }

  const logger = pino({ level: config.logLevel, base: { node: config.id } });
  const node = await startNode({
    config,
    logger,
    authenticator: acl,
    bindHost: effectiveBind(config),
    configView: () => configView(config),
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), config.shutdownTimeoutMs);
    forced.unref();
    node.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`lockstep: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
