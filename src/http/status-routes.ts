/**
 * The status page (`GET /`, one static HTML file that polls) and its data
 * (`GET /status.json`): this node's view through the command layer (INFO, CLUSTER.NODES,
 * LOCK.LIST/LOCK.STATUS, as the requesting user), and every other member's own view, asked
 * from its HTTP port (`/status.json?scope=node`, with the same credentials) with a short
 * timeout, so a node that is down or cut off shows as unreachable rather than by hearsay.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { parseInfo } from '../metrics/info-fields.js';
import type { PanelFigures } from '../metrics/source.js';
import type { Reply } from '../resp/reply.js';
import { CommandRefused, unexpectedReply, withSession } from './api-context.js';
import type { CommandRunner } from './command-runner.js';
import { type Json, replyToJson } from './json-reply.js';
import {
  clusterView,
  type LockRow,
  type MemberLine,
  type NodeView,
  nodeView,
  parseClusterNodes,
} from './status-model.js';

/** Locks listed in the lock table (LOCK.LIST COUNT): a status page, not an export. */
const LOCKS_SHOWN = 10;
const STATUS_SECTIONS = ['server', 'cluster', 'raft', 'locks', 'queues'] as const;

export interface StatusOptions {
  readonly runner: CommandRunner;
  /** The metrics sources' panels (the cache's). */
  readonly panels: () => Record<string, PanelFigures>;
  /** How long to wait for another node's view. */
  readonly peerTimeoutMs: number;
  /** The HTML of the page, read once at start. */
  readonly pageHtml: string;
}

type Run = (args: readonly (string | Buffer)[]) => Promise<Reply>;

export function registerStatusRoutes(app: FastifyInstance, o: StatusOptions): void {
  app.get('/', (_req, res) =>
    res.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(o.pageHtml),
  );

  app.get<{ Querystring: { scope?: 'node' | 'cluster' } }>(
    '/status.json',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { scope: { type: 'string', enum: ['node', 'cluster'] } },
        },
      },
    },
    (req, res) =>
      withSession(o.runner, req, res, async (run) => {
        res.header('cache-control', 'no-store');
        const self = await collectNodeView(run, o.panels);
        if (req.query.scope === 'node') return self;
        const peers = new Map<string, NodeView | { error: string }>();
        const others = self.members.filter((m) => m.id !== self.id);
        const answers = await Promise.all(
          others.map((m) => peerView(m, req.headers.authorization, o.peerTimeoutMs)),
        );
        for (const [i, m] of others.entries()) peers.set(m.id, answers[i]!);
        return clusterView(self, peers, await lockTable(run), Date.now());
      }),
  );
}

async function collectNodeView(run: Run, panels: () => Record<string, PanelFigures>): Promise<NodeView> {
  const info = await run(['INFO', ...STATUS_SECTIONS]);
  if (info.t !== 'bulk' && info.t !== 'verbatim') throw unexpectedReply('INFO', info);
  const nodes = await run(['CLUSTER.NODES']);
  if (nodes.t !== 'bulk') throw unexpectedReply('CLUSTER.NODES', nodes);
  return nodeView(parseInfo(String(info.v)), parseClusterNodes(String(nodes.v)), panels());
}

/** The first locks by name with their holders; an error (no @lock permission, no quorum) is shown instead. */
async function lockTable(run: Run): Promise<LockRow[] | { error: string }> {
  try {
    const names = replyToJson(await run(['LOCK.LIST', 'COUNT', String(LOCKS_SHOWN)]));
    if (!Array.isArray(names)) return { error: 'unexpected reply to LOCK.LIST' };
    const rows = await Promise.all(
      names.map(async (name): Promise<LockRow | null> => {
        const status = replyToJson(await run(['LOCK.STATUS', String(name)]));
        if (status === null || typeof status !== 'object' || Array.isArray(status)) return null;
        const holders = Array.isArray(status['holders']) ? status['holders'] : [];
        return {
          name: String(name),
          mode: String(status['mode'] ?? ''),
          holders: holders.map((h) => {
            const o = (h ?? {}) as Record<string, Json>;
            return {
              owner: String(o['owner'] ?? ''),
              token: Number(o['token'] ?? 0),
              ttlMs: Number(o['ttl-ms'] ?? 0),
            };
          }),
          waiters: Array.isArray(status['waiters']) ? status['waiters'].length : 0,
        };
      }),
    );
    return rows.filter((r) => r !== null);
  } catch (err) {
    if (err instanceof CommandRefused) return { error: err.line };
    throw err;
  }
}

async function peerView(
  member: MemberLine,
  authorization: string | undefined,
  timeoutMs: number,
): Promise<NodeView | { error: string }> {
  if (member.httpPort === 0) return { error: 'its HTTP port is off' };
  const host = member.host.includes(':') ? `[${member.host}]` : member.host;
  try {
    const response = await fetch(`http://${host}:${member.httpPort}/status.json?scope=node`, {
      headers: authorization === undefined ? {} : { authorization },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return { error: `HTTP ${response.status} from ${host}:${member.httpPort}` };
    return (await response.json()) as NodeView;
  } catch (err) {
    return { error: `${host}:${member.httpPort}: ${fetchFailure(err, timeoutMs)}` };
  }
}

/** `ECONNREFUSED` rather than fetch's bare `fetch failed`. */
function fetchFailure(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}

/** The page's HTML, next to this module in the source tree (dist/ has no copy of it). */
export function readStatusPage(): string {
  const candidates = [
    new URL('./status-page.html', import.meta.url),
    new URL('../../../src/http/status-page.html', import.meta.url),
  ];
  for (const url of candidates) {
    try {
      return readFileSync(url, 'utf8');
    } catch {
      // try the next place
    }
  }
  throw new Error(`status page not found at ${candidates.map((u) => u.pathname).join(' or ')}`);
}
