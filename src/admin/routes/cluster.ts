// GET /v1/cluster and GET /v1/brokers: who this cluster is and where its brokers listen.
import type { FastifyInstance } from 'fastify';
import { BrokerList, ClusterInfo, ErrorBody } from '../schemas.js';
import { documented } from '../openapi.js';
import type { AdminDeps } from '../types.js';

export function clusterRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get(
    '/v1/cluster',
    {
      schema: documented({
        summary: 'Cluster identity, this node and its Kafka listeners',
        tags: ['cluster'],
        response: { 200: ClusterInfo, 500: ErrorBody },
      }),
    },
    async () => ({
      clusterId: deps.clusterId,
      nodeId: deps.nodeId,
      // a single node is its own controller
      controllerId: deps.nodeId,
      brokerVersion: deps.brokerVersion,
      listeners: deps.listeners(),
    }),
  );

  app.get(
    '/v1/brokers',
    {
      schema: documented({
        summary: 'The brokers of the cluster and the addresses clients use',
        tags: ['cluster'],
        response: { 200: BrokerList, 500: ErrorBody },
      }),
    },
    async () => ({ brokers: deps.brokers() }),
  );
}
