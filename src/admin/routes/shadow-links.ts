// The shadow-link API (SPEC §2.4) over a ShadowLinkService (the link manager):
//
//   GET    /v1/shadow-links                         list
//   POST   /v1/shadow-links[?validate=false]        create from a link config document (JSON or YAML body)
//   GET    /v1/shadow-links/{name}                  describe (the config, passwords [REDACTED])
//   PATCH  /v1/shadow-links/{name}[?validate=false] replace the config (a [REDACTED] password keeps the stored one)
//   DELETE /v1/shadow-links/{name}[?force=true]     delete (refused while topics are shadowed, unless force)
//   GET    /v1/shadow-links/{name}/status           the status document (tasks, topics, partitions with lag and RPO)
//   GET    /v1/shadow-links/{name}/topics[/{topic}] shadow topics with their partitions
//   POST   /v1/shadow-links/{name}/failover|promote|pause|resume   {"topic"?: "..."}; promote also {"timeoutMs"?: n}
//   POST   /v1/shadow-links/{name}/verify          {"topic"?: "..."}: compare source and shadow batch by batch (200 with
//                                                  the report, whose `ok` says whether they match)
//
// The routes only translate HTTP to service calls: validation of the config, states and errors are the service's.
// A ShadowLinkError becomes its HTTP status with `{ code, message[, field] }` (errors.ts).
//
// Bodies are JSON, or YAML for the config document (`curl --data-binary @link.yaml -H 'content-type:
// application/yaml'`). A body may hold a password, so a parse error never quotes the input, only a position.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { AdminError } from '../errors.js';
import { documented } from '../openapi.js';
import {
  ErrorBody,
  ShadowLinkActionResult,
  ShadowLinkConfigDocument,
  ShadowLinkList,
  ShadowLinkNameParams,
  ShadowLinkStatus,
  ShadowLinkSummary,
  ShadowLinkTopicList,
  ShadowLinkTopicParams,
  ShadowLinkView,
  ShadowTopicStatus,
  ShadowVerifyReport,
} from '../schemas.js';
import type { AdminRoutes } from '../types.js';
import type { LinkActionResult, LinkStatus, LinkSummary, LinkView, ShadowLinkService, TopicStatus, VerifyReport } from '../../shadow/service.js';

// The documents of service.ts must fit the schemas fastify serializes them with (a field missing from a schema
// would be dropped silently), and the schemas must not promise more than the service gives.
type Fits<T extends U, U> = T;
type _ShadowSchemaChecks = [
  Fits<LinkSummary, Static<typeof ShadowLinkSummary>>,
  Fits<Static<typeof ShadowLinkSummary>, LinkSummary>,
  Fits<LinkView, Static<typeof ShadowLinkView>>,
  Fits<Omit<Static<typeof ShadowLinkView>, 'config'>, Omit<LinkView, 'config'>>,
  Fits<LinkStatus, Static<typeof ShadowLinkStatus>>,
  Fits<Static<typeof ShadowLinkStatus>, LinkStatus>,
  Fits<TopicStatus, Static<typeof ShadowTopicStatus>>,
  Fits<Static<typeof ShadowTopicStatus>, TopicStatus>,
  Fits<LinkActionResult, Static<typeof ShadowLinkActionResult>>,
  Fits<Static<typeof ShadowLinkActionResult>, LinkActionResult>,
  Fits<VerifyReport, Static<typeof ShadowVerifyReport>>,
  Fits<Static<typeof ShadowVerifyReport>, VerifyReport>,
];

const TAGS = ['shadow-links'];
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

const ValidateQuery = Type.Object({
  validate: Type.Optional(Type.Boolean({ description: 'false: store the link without contacting the source first (default true)' })),
});
const DeleteQuery = Type.Object({
  force: Type.Optional(Type.Boolean({ description: 'fail over every still-shadowed topic first, then delete (default false)' })),
});

const TopicBody = Type.Object(
  { topic: Type.Optional(Type.String({ minLength: 1, description: 'one shadow topic; absent: every topic of the link' })) },
  { description: '{} for the whole link, or {"topic": "..."} for one topic' },
);
const PromoteBody = Type.Object(
  {
    topic: Type.Optional(Type.String({ minLength: 1, description: 'one shadow topic; absent: every topic of the link' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: "how long to wait for the shadow to catch up (default: the broker's)" })),
  },
  { description: '{} for the whole link, or {"topic": "...", "timeoutMs": 60000}' },
);
type PromoteBody = Static<typeof PromoteBody>;
const VerifyBody = Type.Object(
  { topic: Type.Optional(Type.String({ minLength: 1, description: 'one shadow topic (any state); absent: every topic the link still shadows' })) },
  { description: '{} for every still-shadowed topic of the link, or {"topic": "..."}' },
);

/** Decodes a YAML body; errors name a position only (the input may hold a password). */
function parseYamlBody(text: string): unknown {
  try {
    return parseYaml(text, { logLevel: 'error' });
  } catch (err) {
    const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    const code = (err as { code?: string }).code ?? 'syntax error';
    throw AdminError.of('INVALID_REQUEST', `body is not valid YAML (${code}${pos ? ` at line ${pos.line}, column ${pos.col}` : ''})`);
  }
}

/**
 * fastify (with its default ajv options) removes, rather than rejects, properties a schema does not know; for
 * `{"topics": "orders"}` that would turn a one-topic failover into a whole-link one. So unknown keys are refused here.
 */
function checkKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw AdminError.of('INVALID_REQUEST', `body: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; expected ${allowed.map((k) => `'${k}'`).join(', ')}`);
  }
}

/** `POST .../pause` with no body (curl -X POST) means `{}`. */
async function emptyBodyIsObject(req: FastifyRequest): Promise<void> {
  if (req.body === undefined || req.body === null) req.body = {};
}

const linkErrors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 500: ErrorBody, 502: ErrorBody, 504: ErrorBody };

export function shadowLinkRoutes(service: ShadowLinkService): AdminRoutes {
  return (app: FastifyInstance) => {
    // registered inside the route's own plugin scope (server.ts), so YAML is accepted on these routes only
    app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, parseYamlBody(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });

    app.get(
      '/v1/shadow-links',
      {
        schema: documented({
          summary: 'All shadow links, with topic counts by state, total lag and worst RPO',
          tags: TAGS,
          response: { 200: ShadowLinkList, 500: ErrorBody },
        }),
      },
      async () => ({ links: service.list() }),
    );

    app.post<{ Querystring: Static<typeof ValidateQuery> }>(
      '/v1/shadow-links',
      {
        schema: documented({
          summary: 'Create a shadow link from its config document (JSON or YAML)',
          description: 'Unless validate=false, the source is contacted first and the link is refused if it cannot be reached.',
          tags: TAGS,
          querystring: ValidateQuery,
          body: ShadowLinkConfigDocument,
          response: { 201: ShadowLinkView, ...linkErrors },
        }),
      },
      async (req, reply: FastifyReply) => {
        const view = await service.create(req.body, { validateSource: req.query.validate !== false });
        return reply.status(201).send(view);
      },
    );

    app.get<{ Params: Static<typeof ShadowLinkNameParams> }>(
      '/v1/shadow-links/:name',
      {
        schema: documented({
          summary: 'One shadow link: its config (passwords [REDACTED]) and state',
          tags: TAGS,
          params: ShadowLinkNameParams,
          response: { 200: ShadowLinkView, 404: ErrorBody, 500: ErrorBody },
        }),
      },
      async (req) => service.describe(req.params.name),
    );

    app.patch<{ Params: Static<typeof ShadowLinkNameParams>; Querystring: Static<typeof ValidateQuery> }>(
      '/v1/shadow-links/:name',
      {
        schema: documented({
          summary: 'Replace the config of a shadow link (the full document; the name cannot change)',
          description: 'A password given as [REDACTED] (or left out) keeps the stored one when the username is unchanged.',
          tags: TAGS,
          params: ShadowLinkNameParams,
          querystring: ValidateQuery,
          body: ShadowLinkConfigDocument,
          response: { 200: ShadowLinkView, ...linkErrors },
        }),
      },
      async (req) => service.update(req.params.name, req.body, { validateSource: req.query.validate !== false }),
    );

    app.delete<{ Params: Static<typeof ShadowLinkNameParams>; Querystring: Static<typeof DeleteQuery> }>(
      '/v1/shadow-links/:name',
      {
        schema: documented({
          summary: 'Delete a shadow link (never its topics)',
          description: 'Refused (409) while a topic of the link is still shadowed; force=true fails those topics over first.',
          tags: TAGS,
          params: ShadowLinkNameParams,
          querystring: DeleteQuery,
          response: { 204: Type.Null({ description: 'Deleted' }), 404: ErrorBody, 409: ErrorBody, 500: ErrorBody },
        }),
      },
      async (req, reply: FastifyReply) => {
        await service.delete(req.params.name, { force: req.query.force === true });
        return reply.status(204).send();
      },
    );

    app.get<{ Params: Static<typeof ShadowLinkNameParams> }>(
      '/v1/shadow-links/:name/status',
      {
        schema: documented({
          summary: 'Status of a shadow link: tasks, topics and partitions with offsets, lag and RPO',
          tags: TAGS,
          params: ShadowLinkNameParams,
          response: { 200: ShadowLinkStatus, 404: ErrorBody, 500: ErrorBody },
        }),
      },
      async (req) => service.status(req.params.name),
    );

    app.get<{ Params: Static<typeof ShadowLinkNameParams> }>(
      '/v1/shadow-links/:name/topics',
      {
        schema: documented({
          summary: 'The shadow topics of a link, with their partitions',
          tags: TAGS,
          params: ShadowLinkNameParams,
          response: { 200: ShadowLinkTopicList, 404: ErrorBody, 500: ErrorBody },
        }),
      },
      async (req) => ({ topics: service.status(req.params.name).topics }),
    );

    app.get<{ Params: Static<typeof ShadowLinkTopicParams> }>(
      '/v1/shadow-links/:name/topics/:topic',
      {
        schema: documented({
          summary: 'One shadow topic of a link, with its partitions',
          tags: TAGS,
          params: ShadowLinkTopicParams,
          response: { 200: ShadowTopicStatus, 404: ErrorBody, 500: ErrorBody },
        }),
      },
      async (req) => service.topic(req.params.name, req.params.topic),
    );

    const action = (
      verb: 'failover' | 'pause' | 'resume',
      summary: string,
      description: string,
      run: (name: string, topic: string | undefined) => Promise<LinkActionResult>,
    ): void => {
      app.post<{ Params: Static<typeof ShadowLinkNameParams>; Body: Static<typeof TopicBody> }>(
        `/v1/shadow-links/:name/${verb}`,
        {
          preValidation: emptyBodyIsObject,
          schema: documented({
            summary,
            description,
            tags: TAGS,
            params: ShadowLinkNameParams,
            body: TopicBody,
            response: { 200: ShadowLinkActionResult, ...linkErrors },
          }),
        },
        async (req) => {
          checkKeys(req.body, ['topic']);
          return run(req.params.name, req.body.topic);
        },
      );
    };

    action(
      'failover',
      'Fail over one topic, or every topic of the link: stop replicating and make it writable (irreversible)',
      'Immediate: ACTIVE -> FAILING_OVER -> FAILED_OVER. Re-running a whole-link failover picks up topics created since.',
      (name, topic) => service.failover(name, topic),
    );
    action('pause', 'Pause replication and sync of the link, or of one topic (topics stay read-only)', 'Undone by resume.', (name, topic) =>
      service.pause(name, topic),
    );
    action('resume', 'Resume a paused link, or one paused topic', 'Undoes pause.', (name, topic) => service.resume(name, topic));

    app.post<{ Params: Static<typeof ShadowLinkNameParams>; Body: PromoteBody }>(
      '/v1/shadow-links/:name/promote',
      {
        preValidation: emptyBodyIsObject,
        schema: documented({
          summary: 'Promote one topic, or every topic of the link: wait until caught up with the source, then fail over',
          description:
            'Graceful: waits until the shadow has what the source had at the call (lag 0), runs a final offset sync, then fails ' +
            'over (ACTIVE -> PROMOTING -> PROMOTED). 502 when the source is unreachable (use failover), 504 on timeout.',
          tags: TAGS,
          params: ShadowLinkNameParams,
          body: PromoteBody,
          response: { 200: ShadowLinkActionResult, ...linkErrors },
        }),
      },
      async (req) => {
        checkKeys(req.body, ['topic', 'timeoutMs']);
        const { topic, timeoutMs } = req.body;
        return service.promote(req.params.name, topic, timeoutMs !== undefined ? { timeoutMs } : undefined);
      },
    );

    app.post<{ Params: Static<typeof ShadowLinkNameParams>; Body: Static<typeof VerifyBody> }>(
      '/v1/shadow-links/:name/verify',
      {
        preValidation: emptyBodyIsObject,
        schema: documented({
          summary: 'Compare source and shadow batch by batch over the offset range both hold',
          description:
            'Per partition: base offset, last offset delta, length, stored CRC and the CRC32C recomputed over the stored bytes on ' +
            'both sides (records are never decoded). Answers 200 with the report even when differences are found: its `ok` ' +
            'says whether everything both sides hold is identical. Every topic the link still shadows, or the one given (any state).',
          tags: TAGS,
          params: ShadowLinkNameParams,
          body: VerifyBody,
          response: { 200: ShadowVerifyReport, ...linkErrors },
        }),
      },
      async (req) => {
        checkKeys(req.body, ['topic']);
        return service.verify(req.params.name, req.body.topic);
      },
    );
  };
}
