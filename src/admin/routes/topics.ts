// GET /v1/topics and GET /v1/topics/{name}: topics with per-partition offsets and sizes.
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { ErrorBody, TopicDetail, TopicList, TopicNameParams } from '../schemas.js';
import { documented } from '../openapi.js';
import type { AdminDeps } from '../types.js';

export function topicRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get(
    '/v1/topics',
    {
      schema: documented({
        summary: 'All topics, with log start/end offsets and size per partition',
        tags: ['topics'],
        response: { 200: TopicList, 500: ErrorBody },
      }),
    },
    async () => ({ topics: deps.listTopics() }),
  );

  app.get<{ Params: Static<typeof TopicNameParams> }>(
    '/v1/topics/:name',
    {
      schema: documented({
        summary: 'One topic, with its partitions and effective configuration',
        tags: ['topics'],
        params: TopicNameParams,
        response: { 200: TopicDetail, 404: ErrorBody, 500: ErrorBody },
      }),
    },
    async (req) => {
      const topic = deps.describeTopic(req.params.name);
      if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${req.params.name}' does not exist`);
      return topic;
    },
  );
}
