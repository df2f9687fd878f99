// The OpenAPI 3.1 document of the admin API, generated from the routes' own schemas: an onRoute hook records each
// route as fastify registers it, so a route cannot exist without appearing here (unless it asks to be hidden).
// OpenAPI 3.1 uses JSON Schema itself, so TypeBox schemas go in unchanged.
import type { FastifySchema, RouteOptions } from 'fastify';

/** The OpenAPI-only keys a route's `schema` may carry besides the ones fastify validates with. */
export interface RouteDocs {
  summary?: string;
  description?: string;
  tags?: string[];
  /** leave the route out of the document */
  hide?: boolean;
  /** media type of successful responses when not JSON (e.g. text/plain for /metrics) */
  produces?: string;
}

/** A route schema with its OpenAPI docs; fastify ignores the extra keys, the collector reads them. */
export function documented(schema: FastifySchema & RouteDocs): FastifySchema {
  return schema;
}

interface RecordedRoute {
  method: string;
  url: string;
  schema: Record<string, unknown>;
}

type JsonSchema = Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[] };

const STATUS_TEXT: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '204': 'No Content',
  '400': 'Invalid request',
  '404': 'Not found',
  '409': 'Conflict',
  '500': 'Internal error',
  '503': 'Unavailable',
};

/** TypeBox schemas carry symbol keys; a JSON round trip leaves plain JSON Schema. */
function plain<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema)) as T;
}

export class OpenApiCollector {
  private readonly routes: RecordedRoute[] = [];

  /** fastify onRoute hook */
  readonly onRoute = (route: RouteOptions): void => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema ?? {}) as Record<string, unknown> & RouteDocs;
    if (schema.hide) return;
    for (const m of methods) {
      // fastify adds a HEAD twin for every GET; documenting it adds nothing
      if (m === 'HEAD') continue;
      this.routes.push({ method: m.toLowerCase(), url: route.url, schema });
    }
  };

  document(info: { title: string; version: string; description?: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const docs = r.schema as RouteDocs;
      const op: Record<string, unknown> = {
        operationId: `${r.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      };
      if (docs.summary) op.summary = docs.summary;
      if (docs.description) op.description = docs.description;
      if (docs.tags) op.tags = docs.tags;

      const parameters: unknown[] = [];
      const addParams = (schema: unknown, where: 'path' | 'query') => {
        const s = schema as JsonSchema | undefined;
        for (const [name, prop] of Object.entries(s?.properties ?? {})) {
          const p = plain(prop) as JsonSchema;
          const description = p.description;
          delete p.description;
          parameters.push({ name, in: where, required: where === 'path' || (s?.required ?? []).includes(name), ...(description ? { description } : {}), schema: p });
        }
      };
      addParams(r.schema.params, 'path');
      addParams(r.schema.querystring, 'query');
      if (parameters.length > 0) op.parameters = parameters;
      if (r.schema.body) op.requestBody = { required: true, content: { 'application/json': { schema: plain(r.schema.body) } } };

      const responses: Record<string, unknown> = {};
      for (const [status, schema] of Object.entries((r.schema.response ?? {}) as Record<string, unknown>)) {
        const s = plain(schema) as JsonSchema;
        const mediaType = docs.produces && status.startsWith('2') ? docs.produces : 'application/json';
        responses[status] = { description: (s.description as string | undefined) ?? STATUS_TEXT[status] ?? status, content: { [mediaType]: { schema: s } } };
      }
      if (Object.keys(responses).length === 0) responses['200'] = { description: 'OK' };
      op.responses = responses;
      (paths[path] ??= {})[r.method] = op;
    }
    return {
      openapi: '3.1.0',
      info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
      paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : 1))),
    };
  }
}
