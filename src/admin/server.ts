// The admin HTTP server (fastify): the REST API, /metrics and the OpenAPI document. Route modules live in routes/;
// other parts of Umbra (the shadow-link API) add theirs through `routes`, and appear in the OpenAPI document too.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { Type } from '@sinclair/typebox';
import { AdminError, toErrorResponse } from './errors.js';
import { OpenApiCollector, documented } from './openapi.js';
import { clusterRoutes } from './routes/cluster.js';
import { topicRoutes } from './routes/topics.js';
import type { AdminDeps, AdminRoutes } from './types.js';

export interface AdminServerOptions {
  host: string;
  /** 0 = any free port (tests) */
  port: number;
  deps: AdminDeps;
  logger?: Logger;
  routes?: AdminRoutes[];
  /**
   * When set, every route requires HTTP basic credentials of a SCRAM user that `allowed()` accepts (the broker
   * passes this when any Kafka listener requires SASL: superusers only). Failures never say which part was wrong.
   */
  basicAuth?: {
    verify(user: string, password: string): Promise<boolean>;
    allowed(user: string): boolean;
  };
}

export interface AdminServer {
  /** the bound port */
  readonly port: number;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const logger: FastifyBaseLogger = opts.logger ? opts.logger.child({ component: 'admin' }) : pino({ enabled: false });
  const app = Fastify({
    loggerInstance: logger,
    // one log line per HTTP request is noise for an admin API that Prometheus scrapes every few seconds
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1 << 20,
  });
  const { deps } = opts;

  const openapi = new OpenApiCollector();
  app.addHook('onRoute', openapi.onRoute);

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) req.log.error({ err, url: req.url }, 'admin request failed');
    void reply.status(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = toErrorResponse(AdminError.of('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
    void reply.status(status).send(body);
  });

  if (opts.basicAuth) {
    const auth = opts.basicAuth;
    app.addHook('onRequest', async (req, reply) => {
      const header = req.headers.authorization ?? '';
      const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
      const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      const user = colon > 0 ? decoded.slice(0, colon) : '';
      const ok = colon > 0 && (await auth.verify(user, decoded.slice(colon + 1)));
      if (!ok) {
        void reply.header('www-authenticate', 'Basic realm="umbra"');
        throw AdminError.of('UNAUTHENTICATED', 'this broker requires the credentials of a superuser (HTTP basic)');
      }
      if (!auth.allowed(user)) throw AdminError.of('FORBIDDEN', `user '${user}' is not a superuser`);
    });
  }

  clusterRoutes(app, deps);
  topicRoutes(app, deps);

  app.get(
    '/metrics',
    {
      schema: documented({
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['metrics'],
        produces: 'text/plain',
        response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }) },
      }),
    },
    async (_req, reply) => {
      const text = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).send(text);
    },
  );

  app.get(
    '/v1/openapi.json',
    {
      schema: documented({
        summary: 'This document',
        tags: ['meta'],
        response: { 200: Type.Object({}, { additionalProperties: true, description: 'OpenAPI 3.1 document' }) },
      }),
    },
    async () => openapi.document({ title: 'Umbra admin API', version: deps.brokerVersion, description: 'Cluster, topics, shadow links and metrics of an Umbra broker.' }),
  );

  for (const r of opts.routes ?? []) await app.register(async (scope) => r(scope));

  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    port,
    app,
    close: () => app.close(),
  };
}
