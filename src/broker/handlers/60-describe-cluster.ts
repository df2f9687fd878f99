// DescribeCluster (key 60), v0-2. The Java AdminClient prefers it to Metadata for describeCluster().
// Behaviour: this node is the only broker and the controller; endpointType 1 (brokers) is the only one served
// (2 = controllers gets UNSUPPORTED_ENDPOINT_TYPE, as a KRaft broker answers); fenced brokers: none.
import * as Req from '../../protocol/generated/messages/DescribeClusterRequest.js';
import * as Res from '../../protocol/generated/messages/DescribeClusterResponse.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';

const BROKER_ENDPOINTS = 1;
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export default defineHandler<Req.DescribeClusterRequest, Res.DescribeClusterResponse>(Req, Res, {
  handle(ctx, req) {
    const s = ctx.services;
    const base = { throttleTimeMs: 0, endpointType: req.endpointType, clusterId: s.clusterId, controllerId: s.nodeId, clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
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
