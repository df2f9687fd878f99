// Umbra's Kafka client: one import for the CLI, shadow linking and tests.
export * from './client.js';
export { BrokerConnection, type BrokerConnectionOptions, type Authenticator, type SocketFactory, type VersionRange } from './connection.js';
export type { ClientApis, ClientApiKey, RequestOf, ResponseOf } from './apis.js';
export { Producer, type ProducerOptions, type ProducerRecord, type RecordMetadata } from './producer.js';
export { Consumer, type ConsumerOptions, type ConsumerRecord, type ResetPolicy, type StartOffset, type TopicPartition } from './consumer.js';
export { defaultPartitioner, murmur2, partitionForKey, toPositive, type Partitioner } from './partitioner.js';
export { ASSIGNORS, rangeAssignor, roundRobinAssignor, encodeSubscription, decodeSubscription, encodeAssignment, decodeAssignment, type Assignor } from './assignors.js';
export { KafkaError, ErrorCode, errorName, isRetriable, kafkaError, throwIfError } from './errors.js';
