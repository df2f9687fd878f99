// DescribeCluster (key 60), v0-2. The Java AdminClient prefers it to Metadata for describeCluster().
// Behaviour: this node is the only broker and the controller; endpointType 1 (brokers) is the only one served
// (2 = controllers gets UNSUPPORTED_ENDPOINT_TYPE, as a KRaft broker answers); fenced brokers: none.
// Authorization (Kafka's AuthHelper.computeDescribeClusterResponse): none for the request itself. Asked for
// (includeClusterAuthorizedOperations), the cluster's authorized operations are answered to principals with
// DESCRIBE on the cluster, 0 to others; not asked, INT32_MIN ("omitted").
import * as Req from '../../protocol/generated/messages/DescribeClusterRequest.js';
import * as Res from '../../protocol/generated/messages/DescribeClusterResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_NAME } from '../../security/acl.js';
import { authorizeCluster, authorizedOperations } from '../../security/authorizer-helpers.js';

const BROKER_ENDPOINTS = 1;

export default defineHandler<Req.DescribeClusterRequest, Res.DescribeClusterResponse>(Req, Res, {
  handle(ctx, req) {
    const s = ctx.services;
    const clusterAuthorizedOperations = !req.includeClusterAuthorizedOperations
      ? AUTHORIZED_OPERATIONS_OMITTED
      : authorizeCluster(ctx, 'DESCRIBE')
        ? authorizedOperations(ctx, 'CLUSTER', CLUSTER_NAME)
        : 0;
    const base = { throttleTimeMs: 0, endpointType: req.endpointType, clusterId: s.clusterId, controllerId: s.nodeId, clusterAuthorizedOperations };
    if (req.endpointType !== BROKER_ENDPOINTS) {
      return { ...base, errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: 'only broker endpoints are described', brokers: [] };
    }
    return {
      ...base,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      brokers: [{ brokerId: s.nodeId, host: ctx.connection.listener.advertised.host, port: ctx.connection.listener.advertised.port, rack: null, isFenced: false }],
    };
  },
});
