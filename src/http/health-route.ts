import type { FastifyInstance } from 'fastify';
import { numberField, parseInfo } from '../metrics/info-fields.js';
import { requestFacts, unexpectedReply, withSession } from './api-context.js';
import type { CommandRunner } from './command-runner.js';

/**
 * `GET /health`: CLUSTER.INFO through the command layer, as a small JSON document. 200 with
 * `status: ok` when this node is a member that sees a group 0 leader (`cluster_state:ok`),
 * else 503 with `status: fail` — the probe Docker's HEALTHCHECK and load balancers use. It
 * needs no credentials: it runs as a built-in user that may run only CLUSTER.INFO.
 */
export function registerHealthRoute(app: FastifyInstance, runner: CommandRunner): void {
  app.get('/health', (req, res) => {
    const session = runner.openRestricted(requestFacts(req), 'http-health', ['cluster.info']);
    return withSession(
      runner,
      req,
      res,
      async (run) => {
        const reply = await run(['CLUSTER.INFO']);
        if (reply.t !== 'bulk') throw unexpectedReply('CLUSTER.INFO', reply);
        const f = parseInfo(String(reply.v));
        const ok = f.get('cluster_state') === 'ok';
        if (!ok) res.code(503);
        return {
          status: ok ? 'ok' : 'fail',
          node: f.get('my_id') ?? '',
          state: f.get('my_state') ?? '',
          meta_leader: f.get('meta_leader') ?? '',
          members: numberField(f, 'cluster_size') ?? 0,
          members_up: numberField(f, 'cluster_members_up') ?? 0,
          epoch: numberField(f, 'cluster_epoch') ?? 0,
        };
      },
      session,
    );
  });
}
