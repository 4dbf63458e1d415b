import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { cacheMetricsSource } from './cache/metrics.js';
import { registerCacheCommands } from './cache/resp-commands.js';
import { CacheService } from './cache/service.js';
import { FrameType } from './cluster/bus/frame.js';
import { busTlsSocketFactory } from './cluster/bus/tls-sockets.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { registerClusterCommands } from './cluster/commands.js';
import { PayloadKind } from './cluster/payload.js';
import { commandTable } from './commands/table.js';
import type { Config } from './config/schema.js';
import { readTlsFiles } from './config/tls-files.js';
import { CommandRunner } from './http/command-runner.js';
import { HttpServer } from './http/server.js';
import { LockMachine } from './lock/machine.js';
import { registerLockCommands } from './lock/resp-commands.js';
import { LockService } from './lock/service.js';
import { CommandLatency } from './metrics/command-latency.js';
import { createNodeMetrics } from './metrics/node-metrics.js';
import type { MetricsRegistrar } from './metrics/source.js';
import { TimedDispatcher } from './metrics/timed-dispatcher.js';
import { QueueMachine } from './queue/machine.js';
import { registerQueueCommands } from './queue/resp-commands.js';
import { QueueService } from './queue/service.js';
import { QueueTables } from './queue/sqlite-store.js';
import { ledQueueTotals } from './queue/totals.js';
import { error } from './resp/reply.js';
import { registerClientCommand } from './server/client-command.js';
import { registerConnectionCommands } from './server/connection-commands.js';
import type { Dispatcher } from './server/dispatcher.js';
import { InfoRegistry } from './server/info.js';
import { registerIntrospectionCommands } from './server/introspection-commands.js';
import { RespServer } from './server/listener.js';
import type { Authenticator } from './server/session.js';
import { addStandardInfo } from './server/standard-info.js';
import { respTlsOptions } from './server/tls.js';
import { VERSION } from './version.js';

export interface NodeDependencies {
  readonly config: Config;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
  /** Effective listen address after protected mode. */
  readonly bindHost: string;
  /** What `CONFIG GET` shows. */
  readonly configView: () => ReadonlyMap<string, string>;
}

export interface RunningNode {
  readonly id: string;
  readonly port: number;
  readonly resp: RespServer;
  readonly dispatcher: Dispatcher;
  readonly cluster: ClusterNode;
  /** The HTTP port listened on; null when `--http-port 0` turned HTTP off. */
  readonly httpPort: number | null;
  /** Where parts of the node add their metrics sources (src/metrics/source.ts). */
  readonly metrics: MetricsRegistrar;
  close(): Promise<void>;
}

/**
 * The composition root: builds every layer of one node from its configuration and starts
 * listening. `main.ts` calls it for the real process; tests call it in-process.
 */
export async function startNode(deps: NodeDependencies): Promise<RunningNode> {
  const { config, logger } = deps;
  mkdirSync(config.data, { recursive: true });

  // Every command, from RESP or the HTTP API, is timed per command (src/metrics).
  const commandLatency = new CommandLatency(commandTable);
  const dispatcher = new TimedDispatcher(
    commandTable,
    (err, command) => logger.error({ err, command }, 'command handler failed'),
    commandLatency,
  );
  const tlsFiles = readTlsFiles(config);
  const resp = new RespServer(
    {
      host: deps.bindHost,
      port: config.port,
      tls:
        tlsFiles && config.tlsPort !== 0
          ? { port: config.tlsPort, options: respTlsOptions(tlsFiles, config.tlsAuthClients) }
          : undefined,
      maxClients: config.maxclients,
      limits: {
        maxBulkBytes: config.maxBulkBytes,
        maxArgs: config.maxArgs,
        maxInlineBytes: config.maxInlineBytes,
        outputBufferBytes: config.clientOutputBufferBytes,
        outputBufferHardBytes: config.clientOutputBufferHardBytes,
        maxPendingReplies: config.maxPendingReplies,
        idleTimeoutMs: config.timeoutMs,
      },
    },
    dispatcher,
    deps.authenticator,
  );

  const info = new InfoRegistry();
  const identity = { nodeId: config.id, version: VERSION };
  registerConnectionCommands(dispatcher, deps.authenticator, identity);
  registerClientCommand(dispatcher, resp);
  registerIntrospectionCommands(dispatcher, commandTable, info, deps.configView);

  const address = await resp.listen();
  addStandardInfo(info, { ...identity, port: address.port, startedAtMs: Date.now() }, resp, dispatcher);
  const lockMachine = new LockMachine();
  // The queue service needs the cluster, and the partitions' machines (created while the
  // cluster starts) need the service for their events: it is filled in once both exist.
  let queues: QueueService | undefined;
  let cache: CacheService | undefined;
  let queueTables: QueueTables | undefined;
  let cluster: ClusterNode;
  try {
    cluster = await ClusterNode.start({
      config,
      logger,
      bindHost: deps.bindHost,
      port: address.port,
      busSockets:
        tlsFiles && config.tlsBus
          ? busTlsSocketFactory(tlsFiles, (remote, reason) =>
              logger.warn({ component: 'bus', remote, reason }, 'bus TLS handshake failed'),
            )
          : undefined,
      httpPort: config.httpPort,
      group0Extensions: [lockMachine],
      partitionMachine: (groupId, db) => {
        queueTables ??= new QueueTables(db.sqlite);
        const machine = new QueueMachine(groupId, queueTables);
        machine.onEvents = (events) => queues?.onEvents(groupId, events);
        return machine;
      },
      frameHandlers: new Map([[FrameType.CACHE, (peer, payload) => cache?.receive(peer, payload)]]),
      queryHandlers: new Map([
        [
          PayloadKind.queue,
          async (groupId, body, timeoutMs) =>
            queues?.serveQuery(groupId, body, timeoutMs) ?? error('TRYAGAIN this node is starting'),
        ],
      ]),
    });
  } catch (e) {
    await resp.close();
    throw e;
  }
  registerClusterCommands(dispatcher, info, cluster, config.enableDebugCommand);
  const locks = new LockService({
    node: cluster,
    machine: lockMachine,
    defaultTtlMs: config.lockDefaultTtlMs,
    maxWaiters: config.lockMaxWaiters,
    tickCheckMs: config.heartbeatMs,
    requestTimeoutMs: () => config.requestTimeoutMs,
  });
  registerLockCommands(dispatcher, info, locks, () => locks.table(), config.lockDefaultTtlMs);
  const queueMachineOf = (groupId: number): QueueMachine | undefined => {
    const inner = cluster.host.group(groupId)?.machine.inner;
    return inner instanceof QueueMachine ? inner : undefined;
  };
  queues = new QueueService({
    node: cluster,
    machineOf: queueMachineOf,
    tickCheckMs: config.heartbeatMs,
    maxLength: config.queueMaxLength,
    maxMessageBytes: config.queueMaxMessageBytes,
  });
  const queueService = queues;
  registerQueueCommands(dispatcher, info, queueService, () => ledQueueTotals(cluster.host, queueMachineOf));
  cache = new CacheService({
    node: cluster,
    protocol: config.cacheProtocol,
    maxBytes: config.cacheMaxBytes,
    homeMaxBytes: config.cacheHomeMaxBytes,
    requestTimeoutMs: () => config.requestTimeoutMs,
    epochCheckMs: config.heartbeatMs,
    contactWindowMs: Math.floor(config.downAfterMs / 2),
    log: (level, message, fields) => logger[level](fields ?? {}, message),
  });
  const cacheService = cache;
  registerCacheCommands(dispatcher, info, cacheService);

  const missing = dispatcher.unhandled();
  if (missing.length > 0) {
    locks.close();
    queueService.close();
    cacheService.close();
    await cluster.close();
    await resp.close();
    throw new Error(`commands without a handler: ${missing.join(', ')}`);
  }

  const metrics = createNodeMetrics(info, commandLatency, (metric, err) =>
    logger.warn({ err, metric }, 'a metric could not be read'),
  );
  // Metrics sources plug in here: `metrics.addSource(source)` (src/metrics/README.md).
  metrics.addSource(cacheMetricsSource(cacheService, info));
  let http: HttpServer | undefined;
  if (config.httpPort !== 0) {
    try {
      http = await HttpServer.start({
        host: deps.bindHost,
        port: config.httpPort,
        bodyLimitBytes: config.maxBulkBytes,
        runner: new CommandRunner(dispatcher, deps.authenticator),
        metrics,
        logger,
      });
    } catch (e) {
      locks.close();
      queueService.close();
      cacheService.close();
      await cluster.close();
      await resp.close();
      throw e;
    }
  }
  logger.info(
    { host: address.host, port: address.port, tlsPort: address.tlsPort, busPort: cluster.self.busPort },
    'ready: accepting RESP clients',
  );

  return {
    id: config.id,
    port: address.port,
    resp,
    dispatcher,
    cluster,
    httpPort: http?.port ?? null,
    metrics,
    async close() {
      await http?.close();
      await resp.close();
      locks.close();
      queueService.close();
      cacheService.close();
      await cluster.close();
      logger.info('stopped');
    },
  };
}
