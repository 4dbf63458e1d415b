import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { NodeMetrics } from '../metrics/registry.js';
import { registerApiRoutes } from './api-routes.js';
import type { CommandRunner } from './command-runner.js';
import { registerHealthRoute } from './health-route.js';
import type { ErrorBody } from './json-reply.js';
import { readStatusPage, registerStatusRoutes } from './status-routes.js';
import { validationMessage } from './validation-message.js';

/** The status page polls every second: a node that has not answered by then shows as unreachable. */
const PEER_TIMEOUT_MS = 800;

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Largest request body: a body cannot carry more than one RESP argument may. */
  readonly bodyLimitBytes: number;
  readonly runner: CommandRunner;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
}

/**
 * The node's HTTP port: `/metrics`, `/health`, the JSON API (`/lock/*`, `/queue/*`,
 * `/cache/*`), the status page `/` and its `/status.json`. Every route that touches state runs
 * commands through `CommandRunner`; this file only assembles fastify.
 */
export class HttpServer {
  private constructor(
    readonly app: FastifyInstance,
    readonly port: number,
  ) {}

  static async start(o: HttpServerOptions): Promise<HttpServer> {
    const log = o.logger.child({ component: 'http' });
    const app = Fastify({
      bodyLimit: o.bodyLimitBytes,
      // Strict: no silent type coercion or dropping of unknown fields; the first problem is reported.
      ajv: {
        customOptions: {
          coerceTypes: false,
          removeAdditional: false,
          useDefaults: false,
          allErrors: false,
          allowUnionTypes: true,
        },
      },
      forceCloseConnections: true,
      return503OnClosing: true,
    });
    // JSON only: fastify would otherwise hand a text/plain body to the schema as a string.
    app.removeContentTypeParser('text/plain');
    app.setErrorHandler((err: FastifyError, req, res) => {
      if (err.validation !== undefined) {
        return res
          .code(400)
          .send(errorBody('ERR', validationMessage(err.validationContext ?? 'request', err.validation)));
      }
      const status = err.statusCode ?? 500;
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        const sent = req.headers['content-type'] ?? 'none';
        return res
          .code(415)
          .send(errorBody('ERR', `send the body as JSON with Content-Type: application/json (got ${sent})`));
      }
      if (status < 500) return res.code(status).send(errorBody('ERR', err.message));
      log.error({ err, method: req.method, url: req.url }, 'HTTP handler failed');
      return res.code(500).send(errorBody('ERR', 'internal error; the node logged the details'));
    });
    app.setNotFoundHandler((req, res) =>
      res.code(404).send(errorBody('NOTFOUND', `no route ${req.method} ${req.url.split('?')[0]}`)),
    );

    app.get('/metrics', async (_req, res) => res.type(o.metrics.contentType).send(await o.metrics.text()));
    registerHealthRoute(app, o.runner);
    registerApiRoutes(app, o.runner);
    registerStatusRoutes(app, {
      runner: o.runner,
      panels: () => o.metrics.panels(),
      peerTimeoutMs: PEER_TIMEOUT_MS,
      pageHtml: readStatusPage(),
    });

    await app.listen({ host: o.host, port: o.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : o.port;
    log.info({ host: o.host, port }, 'HTTP API, metrics and status page listening');
    return new HttpServer(app, port);
  }

  close(): Promise<void> {
    return this.app.close();
  }
}

function errorBody(code: string, error: string): ErrorBody {
  return { ok: false, code, error };
}
