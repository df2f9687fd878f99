package umbra.peer;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * The Apache Kafka Java client (kafka-clients), driven from Node tests as a child process.
 *
 * Every command prints exactly one JSON object on stdout (the last line) and exits 0 on success;
 * on failure it prints {"ok":false,"error":...} and exits non-zero. Client logs go to stderr.
 * Trailing KEY=VALUE arguments are passed to the client as configs, so a test can turn on
 * compression, change acks or pick a group protocol without a new command.
 *
 *   produce  BOOTSTRAP TOPIC COUNT [k=v...]              keyed records "key-i" / "value-i", header peer=java
 *   consume  BOOTSTRAP TOPIC GROUP COUNT TIMEOUT_MS [k=v...]   subscribe, read COUNT (0 = all until timeout), commitSync
 *   admin    BOOTSTRAP SUBCOMMAND ARGS...                 see admin() below
 *
 * Client configs that must not appear on a command line (SASL passwords) come from the environment variable
 * UMBRA_PEER_CLIENT_CONFIG, in java.util.Properties text (one KEY=VALUE per line); command-line configs win.
 *
 * Exit codes: 0 ok, 1 error, 2 usage, 3 consume timed out before COUNT records.
 * Pseudo-configs (not passed to the client): peer.value.bytes=N pads values to N bytes;
 * peer.records=false leaves the record list out of consume's output (counts only).
 */
public final class ClientPeer {
    private static final int EXIT_ERROR = 1;
    private static final int EXIT_USAGE = 2;
    private static final int EXIT_TIMEOUT = 3;

    private ClientPeer() {}

    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (UsageException e) {
            System.err.println("usage: " + e.getMessage());
            System.out.println(Json.write(result(false, "error", "usage: " + e.getMessage())));
            code = EXIT_USAGE;
        } catch (Throwable t) {
            Throwable cause = unwrap(t);
            cause.printStackTrace(System.err);
            Map<String, Object> out = result(false, "error", String.valueOf(cause.getMessage()));
            out.put("errorType", cause.getClass().getName());
            System.out.println(Json.write(out));
            code = EXIT_ERROR;
        }
        System.out.flush();
        System.err.flush();
        // Client threads (metadata, heartbeats) must not keep the JVM alive after the answer is printed.
        Runtime.getRuntime().halt(code);
    }

    private static int run(String[] args) throws Exception {
        if (args.length < 1) throw new UsageException("ClientPeer produce|consume|admin|version ...");
        switch (args[0]) {
            case "version": {
                Map<String, Object> out = result(true);
                out.put("version", AppInfoParser.getVersion());
                out.put("commitId", AppInfoParser.getCommitId());
                System.out.println(Json.write(out));
                return 0;
            }
            case "produce": return produce(Arrays.copyOfRange(args, 1, args.length));
            case "consume": return consume(Arrays.copyOfRange(args, 1, args.length));
            case "admin": return admin(Arrays.copyOfRange(args, 1, args.length));
            default: throw new UsageException("unknown command " + args[0]);
        }
    }

    // ---------------------------------------------------------------- produce

    private static int produce(String[] args) throws Exception {
        if (args.length < 3) throw new UsageException("produce BOOTSTRAP TOPIC COUNT [k=v...]");
        String bootstrap = args[0];
        String topic = args[1];
        int count = Integer.parseInt(args[2]);
        Map<String, String> overrides = keyValues(args, 3);
        int valueBytes = Integer.parseInt(overrides.getOrDefault("peer.value.bytes", "0"));

        Properties props = clientProps(bootstrap, overrides);
        props.putIfAbsent(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.putIfAbsent(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "umbra-java-peer-producer");

        long started = System.nanoTime();
        Map<Integer, long[]> perPartition = new TreeMap<>(); // partition -> {count, first, last}
        AtomicReference<Exception> firstError = new AtomicReference<>();
        int[] errors = {0};
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < count; i++) {
                RecordHeaders headers = new RecordHeaders();
                headers.add("peer", bytes("java"));
                headers.add("seq", bytes(Integer.toString(i)));
                ProducerRecord<byte[], byte[]> record =
                    new ProducerRecord<>(topic, null, null, bytes("key-" + i), value(i, valueBytes), headers);
                producer.send(record, (RecordMetadata md, Exception e) -> {
                    synchronized (perPartition) {
                        if (e != null) {
                            errors[0]++;
                            firstError.compareAndSet(null, e);
                            return;
                        }
                        long[] s = perPartition.computeIfAbsent(md.partition(), p -> new long[] {0, Long.MAX_VALUE, -1});
                        s[0]++;
                        s[1] = Math.min(s[1], md.offset());
                        s[2] = Math.max(s[2], md.offset());
                    }
                });
            }
            producer.flush();
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        Map<String, Object> partitions = new TreeMap<>(Comparator.NUMERIC);
        long acked = 0;
        synchronized (perPartition) {
            for (Map.Entry<Integer, long[]> e : perPartition.entrySet()) {
                long[] s = e.getValue();
                acked += s[0];
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("count", s[0]);
                p.put("firstOffset", s[1]);
                p.put("lastOffset", s[2]);
                partitions.put(Integer.toString(e.getKey()), p);
            }
        }
        Map<String, Object> out = result(errors[0] == 0);
        out.put("client", "java");
        out.put("version", AppInfoParser.getVersion());
        out.put("topic", topic);
        out.put("count", count);
        out.put("acked", acked);
        out.put("errors", errors[0]);
        if (firstError.get() != null) out.put("error", String.valueOf(firstError.get()));
        out.put("idempotence", props.getProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true (default)"));
        out.put("partitions", partitions);
        out.put("elapsedMs", elapsedMs);
        System.out.println(Json.write(out));
        return errors[0] == 0 ? 0 : EXIT_ERROR;
    }

    private static byte[] value(int i, int padTo) {
        String v = "value-" + i;
        if (padTo <= v.length()) return bytes(v);
        byte[] b = new byte[padTo];
        Arrays.fill(b, (byte) 'x');
        byte[] prefix = bytes(v);
        System.arraycopy(prefix, 0, b, 0, prefix.length);
        return b;
    }

    // ---------------------------------------------------------------- consume

    private static int consume(String[] args) throws Exception {
        if (args.length < 5) throw new UsageException("consume BOOTSTRAP TOPIC GROUP COUNT TIMEOUT_MS [k=v...]");
        String bootstrap = args[0];
        String topic = args[1];
        String group = args[2];
        int count = Integer.parseInt(args[3]);
        long timeoutMs = Long.parseLong(args[4]);
        Map<String, String> overrides = keyValues(args, 5);
        boolean listRecords = !"false".equals(overrides.getOrDefault("peer.records", "true"));

        Properties props = clientProps(bootstrap, overrides);
        props.putIfAbsent(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.putIfAbsent(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.putIfAbsent(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.putIfAbsent(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "umbra-java-peer-consumer");

        List<Object> records = new ArrayList<>();
        Map<String, Object> perPartition = new TreeMap<>(Comparator.NUMERIC);
        Map<String, Object> committed = new TreeMap<>(Comparator.NUMERIC);
        int read = 0;
        long started = System.nanoTime();
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(Collections.singletonList(topic));
            while ((count <= 0 || read < count) && System.nanoTime() < deadline) {
                long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(Math.min(leftMs, 500)));
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    read++;
                    String p = Integer.toString(r.partition());
                    perPartition.merge(p, 1L, (a, b) -> (Long) a + (Long) b);
                    if (listRecords) records.add(recordJson(r));
                }
                if (!batch.isEmpty()) consumer.commitSync();
            }
            consumer.commitSync();
            Set<TopicPartition> assigned = consumer.assignment();
            if (!assigned.isEmpty()) {
                for (Map.Entry<TopicPartition, OffsetAndMetadata> e : consumer.committed(assigned).entrySet()) {
                    if (e.getValue() != null) committed.put(Integer.toString(e.getKey().partition()), e.getValue().offset());
                }
            }
        }
        boolean timedOut = count > 0 && read < count;
        Map<String, Object> out = result(!timedOut);
        out.put("client", "java");
        out.put("version", AppInfoParser.getVersion());
        out.put("topic", topic);
        out.put("group", group);
        out.put("count", read);
        out.put("timedOut", timedOut);
        out.put("partitions", perPartition);
        out.put("committed", committed);
        out.put("elapsedMs", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        if (listRecords) out.put("records", records);
        System.out.println(Json.write(out));
        return timedOut ? EXIT_TIMEOUT : 0;
    }

    private static Map<String, Object> recordJson(ConsumerRecord<byte[], byte[]> r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("partition", r.partition());
        m.put("offset", r.offset());
        m.put("timestamp", r.timestamp());
        m.put("timestampType", r.timestampType().name);
        m.put("key", r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8));
        m.put("value", r.value() == null ? null : new String(r.value(), StandardCharsets.UTF_8));
        Map<String, Object> headers = new LinkedHashMap<>();
        for (Header h : r.headers()) headers.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
        m.put("headers", headers);
        return m;
    }

    // ---------------------------------------------------------------- admin

    /*
     * admin BOOTSTRAP create-topic T PARTITIONS [RF] [k=v...]     {"topic","topicId","partitions"}
     * admin BOOTSTRAP delete-topic T
     * admin BOOTSTRAP list-topics                                   {"topics":[...]} (no internal topics)
     * admin BOOTSTRAP describe-topic T                              {"topicId","partitions":[{partition,leader,replicas,isr}]}
     * admin BOOTSTRAP describe-configs T                            {"configs":{name:{value,source,readOnly,sensitive}}}
     * admin BOOTSTRAP alter-config T KEY VALUE                      IncrementalAlterConfigs SET
     * admin BOOTSTRAP delete-config T KEY                           IncrementalAlterConfigs DELETE
     * admin BOOTSTRAP list-offsets T earliest|latest|max-timestamp  {"offsets":{partition:offset}}
     * admin BOOTSTRAP describe-cluster                              {"clusterId","controller","nodes"}
     * admin BOOTSTRAP list-groups                                   {"groups":[{groupId,type,protocol,state}]}
     * admin BOOTSTRAP describe-group G                              {"state","members":[...]}
     * admin BOOTSTRAP group-offsets G                               {"offsets":{"topic-partition":offset}}
     * admin BOOTSTRAP create-acl k=v...                             createAcls, one binding: resourceType, name,
     *                                                                patternType (LITERAL), principal, host (*),
     *                                                                operation, permission (ALLOW)
     * admin BOOTSTRAP describe-acls [k=v...]                        {"acls":[{resourceType,name,patternType,principal,
     *                                                                host,operation,permission}]}; the keys of create-acl
     *                                                                as a filter, missing = ANY (null name/principal/host)
     * admin BOOTSTRAP delete-acls [k=v...]                          {"acls":[...deleted]}, same filter keys
     */
    private static int admin(String[] args) throws Exception {
        if (args.length < 2) throw new UsageException("admin BOOTSTRAP SUBCOMMAND ARGS...");
        String bootstrap = args[0];
        String sub = args[1];
        String[] rest = Arrays.copyOfRange(args, 2, args.length);
        Properties props = clientProps(bootstrap, Collections.emptyMap());
        props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "umbra-java-peer-admin");
        props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        Map<String, Object> out = result(true);
        out.put("client", "java");
        out.put("command", sub);
        try (Admin admin = Admin.create(props)) {
            switch (sub) {
                case "create-topic": {
                    need(rest, 2, "create-topic T PARTITIONS [RF] [k=v...]");
                    String topic = rest[0];
                    int partitions = Integer.parseInt(rest[1]);
                    int configsFrom = 2;
                    short rf = 1;
                    if (rest.length > 2 && !rest[2].contains("=")) {
                        rf = Short.parseShort(rest[2]);
                        configsFrom = 3;
                    }
                    NewTopic nt = new NewTopic(topic, partitions, rf).configs(keyValues(rest, configsFrom));
                    CreateTopicsResult r = admin.createTopics(Collections.singletonList(nt));
                    r.all().get();
                    out.put("topic", topic);
                    out.put("topicId", r.topicId(topic).get().toString());
                    out.put("partitions", r.numPartitions(topic).get());
                    out.put("replicationFactor", r.replicationFactor(topic).get());
                    break;
                }
                case "delete-topic": {
                    need(rest, 1, "delete-topic T");
                    admin.deleteTopics(Collections.singletonList(rest[0])).all().get();
                    out.put("topic", rest[0]);
                    break;
                }
                case "list-topics": {
                    List<String> names = new ArrayList<>(admin.listTopics().names().get());
                    Collections.sort(names);
                    out.put("topics", names);
                    break;
                }
                case "describe-topic": {
                    need(rest, 1, "describe-topic T");
                    TopicDescription d = admin.describeTopics(Collections.singletonList(rest[0])).allTopicNames().get().get(rest[0]);
                    out.put("topic", d.name());
                    out.put("topicId", d.topicId().toString());
                    out.put("internal", d.isInternal());
                    List<Object> parts = new ArrayList<>();
                    for (TopicPartitionInfo p : d.partitions()) {
                        Map<String, Object> pm = new LinkedHashMap<>();
                        pm.put("partition", p.partition());
                        pm.put("leader", p.leader() == null ? null : p.leader().id());
                        pm.put("replicas", nodeIds(p.replicas()));
                        pm.put("isr", nodeIds(p.isr()));
                        parts.add(pm);
                    }
                    out.put("partitions", parts);
                    break;
                }
                case "describe-configs": {
                    need(rest, 1, "describe-configs T");
                    ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, rest[0]);
                    Config config = admin.describeConfigs(Collections.singletonList(res)).all().get().get(res);
                    Map<String, Object> configs = new TreeMap<>();
                    for (ConfigEntry e : config.entries()) {
                        Map<String, Object> em = new LinkedHashMap<>();
                        em.put("value", e.value());
                        em.put("source", e.source().name());
                        em.put("readOnly", e.isReadOnly());
                        em.put("sensitive", e.isSensitive());
                        configs.put(e.name(), em);
                    }
                    out.put("topic", rest[0]);
                    out.put("configs", configs);
                    break;
                }
                case "alter-config":
                case "delete-config": {
                    boolean set = sub.equals("alter-config");
                    need(rest, set ? 3 : 2, set ? "alter-config T KEY VALUE" : "delete-config T KEY");
                    ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, rest[0]);
                    AlterConfigOp op = set
                        ? new AlterConfigOp(new ConfigEntry(rest[1], rest[2]), AlterConfigOp.OpType.SET)
                        : new AlterConfigOp(new ConfigEntry(rest[1], null), AlterConfigOp.OpType.DELETE);
                    Map<ConfigResource, Collection<AlterConfigOp>> ops = new LinkedHashMap<>();
                    ops.put(res, Collections.singletonList(op));
                    admin.incrementalAlterConfigs(ops).all().get();
                    out.put("topic", rest[0]);
                    out.put("key", rest[1]);
                    if (set) out.put("value", rest[2]);
                    break;
                }
                case "list-offsets": {
                    need(rest, 2, "list-offsets T earliest|latest|max-timestamp");
                    String topic = rest[0];
                    OffsetSpec spec;
                    switch (rest[1]) {
                        case "earliest": spec = OffsetSpec.earliest(); break;
                        case "latest": spec = OffsetSpec.latest(); break;
                        case "max-timestamp": spec = OffsetSpec.maxTimestamp(); break;
                        default: throw new UsageException("list-offsets spec must be earliest|latest|max-timestamp");
                    }
                    TopicDescription d = admin.describeTopics(Collections.singletonList(topic)).allTopicNames().get().get(topic);
                    Map<TopicPartition, OffsetSpec> req = new LinkedHashMap<>();
                    for (TopicPartitionInfo p : d.partitions()) req.put(new TopicPartition(topic, p.partition()), spec);
                    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> res = admin.listOffsets(req).all().get();
                    Map<String, Object> offsets = new TreeMap<>(Comparator.NUMERIC);
                    for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e : res.entrySet()) {
                        offsets.put(Integer.toString(e.getKey().partition()), e.getValue().offset());
                    }
                    out.put("topic", topic);
                    out.put("offsets", offsets);
                    break;
                }
                case "describe-cluster": {
                    DescribeClusterResult r = admin.describeCluster();
                    out.put("clusterId", r.clusterId().get());
                    Node controller = r.controller().get();
                    out.put("controller", controller == null ? null : controller.id());
                    List<Object> nodes = new ArrayList<>();
                    for (Node n : r.nodes().get()) {
                        Map<String, Object> nm = new LinkedHashMap<>();
                        nm.put("id", n.id());
                        nm.put("host", n.host());
                        nm.put("port", n.port());
                        nodes.add(nm);
                    }
                    out.put("nodes", nodes);
                    break;
                }
                case "list-groups": {
                    List<Object> groups = new ArrayList<>();
                    for (GroupListing g : admin.listGroups().all().get()) {
                        Map<String, Object> gm = new LinkedHashMap<>();
                        gm.put("groupId", g.groupId());
                        gm.put("type", g.type().map(Object::toString).orElse(null));
                        gm.put("protocol", g.protocol());
                        gm.put("state", g.groupState().map(Object::toString).orElse(null));
                        groups.add(gm);
                    }
                    out.put("groups", groups);
                    break;
                }
                case "describe-group": {
                    need(rest, 1, "describe-group G");
                    ConsumerGroupDescription d = admin.describeConsumerGroups(Collections.singletonList(rest[0])).all().get().get(rest[0]);
                    out.put("groupId", d.groupId());
                    out.put("state", String.valueOf(d.groupState()));
                    out.put("protocol", d.partitionAssignor());
                    List<Object> members = new ArrayList<>();
                    for (MemberDescription m : d.members()) {
                        Map<String, Object> mm = new LinkedHashMap<>();
                        mm.put("memberId", m.consumerId());
                        mm.put("clientId", m.clientId());
                        List<Object> tps = new ArrayList<>();
                        for (TopicPartition tp : m.assignment().topicPartitions()) tps.add(tp.toString());
                        mm.put("assignment", tps);
                        members.add(mm);
                    }
                    out.put("members", members);
                    break;
                }
                case "group-offsets": {
                    need(rest, 1, "group-offsets G");
                    Map<TopicPartition, OffsetAndMetadata> offs =
                        admin.listConsumerGroupOffsets(rest[0]).partitionsToOffsetAndMetadata().get();
                    Map<String, Object> offsets = new TreeMap<>();
                    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offs.entrySet()) {
                        offsets.put(e.getKey().toString(), e.getValue() == null ? null : e.getValue().offset());
                    }
                    out.put("groupId", rest[0]);
                    out.put("offsets", offsets);
                    break;
                }
                case "create-acl": {
                    Map<String, String> kv = keyValues(rest, 0);
                    AclBinding binding = new AclBinding(
                        new ResourcePattern(
                            ResourceType.fromString(required(kv, "resourceType")),
                            required(kv, "name"),
                            PatternType.fromString(kv.getOrDefault("patternType", "LITERAL"))),
                        new AccessControlEntry(
                            required(kv, "principal"),
                            kv.getOrDefault("host", "*"),
                            AclOperation.fromString(required(kv, "operation")),
                            AclPermissionType.fromString(kv.getOrDefault("permission", "ALLOW"))));
                    admin.createAcls(Collections.singletonList(binding)).all().get();
                    out.put("created", aclJson(binding));
                    break;
                }
                case "describe-acls": {
                    List<Object> acls = new ArrayList<>();
                    for (AclBinding b : admin.describeAcls(aclFilter(keyValues(rest, 0))).values().get()) acls.add(aclJson(b));
                    out.put("acls", acls);
                    break;
                }
                case "delete-acls": {
                    List<Object> acls = new ArrayList<>();
                    for (AclBinding b : admin.deleteAcls(Collections.singletonList(aclFilter(keyValues(rest, 0)))).all().get()) acls.add(aclJson(b));
                    out.put("acls", acls);
                    break;
                }
                default:
                    throw new UsageException("unknown admin subcommand " + sub);
            }
        }
        System.out.println(Json.write(out));
        return 0;
    }

    // ---------------------------------------------------------------- helpers

    private static AclBindingFilter aclFilter(Map<String, String> kv) {
        return new AclBindingFilter(
            new ResourcePatternFilter(
                ResourceType.fromString(kv.getOrDefault("resourceType", "ANY")),
                kv.get("name"),
                PatternType.fromString(kv.getOrDefault("patternType", "ANY"))),
            new AccessControlEntryFilter(
                kv.get("principal"),
                kv.get("host"),
                AclOperation.fromString(kv.getOrDefault("operation", "ANY")),
                AclPermissionType.fromString(kv.getOrDefault("permission", "ANY"))));
    }

    private static Map<String, Object> aclJson(AclBinding b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resourceType", b.pattern().resourceType().name());
        m.put("name", b.pattern().name());
        m.put("patternType", b.pattern().patternType().name());
        m.put("principal", b.entry().principal());
        m.put("host", b.entry().host());
        m.put("operation", b.entry().operation().name());
        m.put("permission", b.entry().permissionType().name());
        return m;
    }

    private static String required(Map<String, String> kv, String key) {
        String v = kv.get(key);
        if (v == null) throw new UsageException("missing " + key + "=...");
        return v;
    }

    private static Properties clientProps(String bootstrap, Map<String, String> overrides) {
        Properties props = new Properties();
        String fromEnv = System.getenv("UMBRA_PEER_CLIENT_CONFIG");
        if (fromEnv != null) {
            try {
                props.load(new StringReader(fromEnv));
            } catch (IOException e) {
                throw new UsageException("UMBRA_PEER_CLIENT_CONFIG: " + e.getMessage());
            }
        }
        props.put("bootstrap.servers", bootstrap);
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!e.getKey().startsWith("peer.")) props.put(e.getKey(), e.getValue());
        }
        return props;
    }

    private static Map<String, String> keyValues(String[] args, int from) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = from; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) throw new UsageException("expected KEY=VALUE, got " + args[i]);
            m.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        return m;
    }

    private static void need(String[] rest, int n, String usage) {
        if (rest.length < n) throw new UsageException("admin BOOTSTRAP " + usage);
    }

    private static List<Object> nodeIds(List<Node> nodes) {
        List<Object> ids = new ArrayList<>();
        for (Node n : nodes) ids.add(n.id());
        return ids;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, Object> result(boolean ok, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", ok);
        for (int i = 0; i + 1 < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof ExecutionException || t.getClass() == RuntimeException.class) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        UsageException(String message) { super(message); }
    }

    /** Orders partition numbers written as strings numerically ("2" before "10"). */
    private enum Comparator implements java.util.Comparator<String> {
        NUMERIC;
        @Override public int compare(String a, String b) {
            return Long.compare(Long.parseLong(a), Long.parseLong(b));
        }
    }

    /** Just enough JSON for maps, lists, strings, numbers, booleans and null. */
    static final class Json {
        private Json() {}

        static String write(Object value) {
            StringBuilder sb = new StringBuilder();
            write(sb, value);
            return sb.toString();
        }

        private static void write(StringBuilder sb, Object v) {
            if (v == null) {
                sb.append("null");
            } else if (v instanceof String) {
                string(sb, (String) v);
            } else if (v instanceof Number || v instanceof Boolean) {
                sb.append(v);
            } else if (v instanceof Map) {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (!first) sb.append(',');
                    first = false;
                    string(sb, String.valueOf(e.getKey()));
                    sb.append(':');
                    write(sb, e.getValue());
                }
                sb.append('}');
            } else if (v instanceof Iterable) {
                sb.append('[');
                boolean first = true;
                for (Object o : (Iterable<?>) v) {
                    if (!first) sb.append(',');
                    first = false;
                    write(sb, o);
                }
                sb.append(']');
            } else {
                string(sb, v.toString());
            }
        }

        private static void string(StringBuilder sb, String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"': sb.append("\\\""); break;
                    case '\\': sb.append("\\\\"); break;
                    case '\n': sb.append("\\n"); break;
                    case '\r': sb.append("\\r"); break;
                    case '\t': sb.append("\\t"); break;
                    default:
                        if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                        else sb.append(c);
                }
            }
            sb.append('"');
        }
    }
}
