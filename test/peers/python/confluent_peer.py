#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) as a test peer, driven from Node (test/helpers/peers.ts).

Runs under Debian's /usr/bin/python3 (package python3-confluent-kafka: confluent-kafka 1.7.0 on
librdkafka 2.0.2), not under a pyenv python first on PATH.

Output contract: progress lines may go to stderr; stdout gets JSON lines, and the LAST line is the
result object, {"ok": true, ...} or {"ok": false, "error": "..."} with a non-zero exit.

  confluent_peer.py version
  confluent_peer.py metadata BOOTSTRAP
  confluent_peer.py create-topics BOOTSTRAP PARTITIONS TOPIC [TOPIC...] [--config k=v ...]
  confluent_peer.py delete-topics BOOTSTRAP TOPIC [TOPIC...]
  confluent_peer.py describe-configs BOOTSTRAP TOPIC
  confluent_peer.py alter-configs BOOTSTRAP TOPIC k=v [k=v ...]     AlterConfigs (not incremental: 1.7 has none)
  confluent_peer.py produce BOOTSTRAP TOPIC COUNT [--compression C] [--no-idempotence] [--config k=v ...]
  confluent_peer.py group-consume BOOTSTRAP TOPIC GROUP EXPECTED TIMEOUT_MS [--members N]
"""

import argparse
import json
import sys
import threading
import time

import confluent_kafka
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic

ADMIN_TIMEOUT_S = 30


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
    sys.stdout.flush()


def log(msg):
    sys.stderr.write("confluent_peer: %s\n" % msg)
    sys.stderr.flush()


def key_values(items):
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError("expected KEY=VALUE, got %r" % item)
        k, v = item.split("=", 1)
        out[k] = v
    return out


def admin_client(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap})


def wait_all(futures):
    """Waits on a dict of admin futures; returns ({name: result}, {name: error string})."""
    results, errors = {}, {}
    for name, fut in futures.items():
        try:
            results[name] = fut.result(timeout=ADMIN_TIMEOUT_S)
        except Exception as e:  # KafkaException carries a KafkaError
            errors[str(name)] = str(e)
    return results, errors


def per_name(names, errors, done_key):
    return {n: ({"error": errors[n]} if n in errors else {done_key: True}) for n in names}


def cmd_version(_args):
    emit({"ok": True, "client": "confluent-kafka-python", "version": confluent_kafka.version()[0],
          "librdkafka": confluent_kafka.libversion()[0]})
    return 0


def cmd_metadata(args):
    admin = admin_client(args.bootstrap)
    md = admin.list_topics(timeout=ADMIN_TIMEOUT_S)
    topics = {}
    for name, t in sorted(md.topics.items()):
        topics[name] = {
            "error": None if t.error is None else str(t.error),
            "partitions": {str(p.id): {"leader": p.leader, "replicas": list(p.replicas), "isrs": list(p.isrs)}
                           for p in sorted(t.partitions.values(), key=lambda p: p.id)},
        }
    emit({"ok": True, "clusterId": md.cluster_id, "controllerId": md.controller_id,
          "brokers": [{"id": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()],
          "topics": topics})
    return 0


def cmd_create_topics(args):
    config = key_values(args.config)
    new = [NewTopic(t, num_partitions=args.partitions, replication_factor=args.replication_factor, config=config)
           for t in args.topics]
    admin = admin_client(args.bootstrap)  # keep a reference: a collected client fails its futures with _DESTROY
    _, errors = wait_all(admin.create_topics(new, operation_timeout=ADMIN_TIMEOUT_S))
    emit({"ok": not errors, "command": "create-topics", "topics": per_name(args.topics, errors, "created")})
    return 1 if errors else 0


def cmd_delete_topics(args):
    admin = admin_client(args.bootstrap)
    _, errors = wait_all(admin.delete_topics(args.topics, operation_timeout=ADMIN_TIMEOUT_S))
    emit({"ok": not errors, "command": "delete-topics", "topics": per_name(args.topics, errors, "deleted")})
    return 1 if errors else 0


def cmd_describe_configs(args):
    res = ConfigResource(ConfigResource.Type.TOPIC, args.topic)
    admin = admin_client(args.bootstrap)
    results, errors = wait_all(admin.describe_configs([res]))
    if errors:
        emit({"ok": False, "command": "describe-configs", "topic": args.topic, "error": next(iter(errors.values()))})
        return 1
    configs = {}
    for entries in results.values():
        for name, entry in sorted(entries.items()):
            source = entry.source
            configs[name] = {"value": entry.value,
                             "source": source.name if hasattr(source, "name") else ConfigSource(source).name,
                             "readOnly": entry.is_read_only, "sensitive": entry.is_sensitive,
                             "isDefault": entry.is_default}
    emit({"ok": True, "command": "describe-configs", "topic": args.topic, "configs": configs})
    return 0


def cmd_alter_configs(args):
    res = ConfigResource(ConfigResource.Type.TOPIC, args.topic, set_config=key_values(args.configs))
    admin = admin_client(args.bootstrap)
    _, errors = wait_all(admin.alter_configs([res]))
    out = {"ok": not errors, "command": "alter-configs", "topic": args.topic, "set": key_values(args.configs)}
    if errors:
        out["error"] = next(iter(errors.values()))
    emit(out)
    return 1 if errors else 0


def cmd_produce(args):
    conf = {"bootstrap.servers": args.bootstrap, "enable.idempotence": not args.no_idempotence,
            "compression.type": args.compression, "linger.ms": 5}
    conf.update(key_values(args.config))
    producer = Producer(conf)
    partitions, errors = {}, []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
            return
        s = partitions.setdefault(str(msg.partition()), {"count": 0, "firstOffset": None, "lastOffset": None})
        s["count"] += 1
        off = msg.offset()
        s["firstOffset"] = off if s["firstOffset"] is None else min(s["firstOffset"], off)
        s["lastOffset"] = off if s["lastOffset"] is None else max(s["lastOffset"], off)

    started = time.monotonic()
    for i in range(args.count):
        while True:
            try:
                producer.produce(args.topic, key=b"key-%d" % i, value=b"value-%d" % i,
                                 headers=[("peer", b"confluent"), ("seq", b"%d" % i)], on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(60)
    acked = sum(p["count"] for p in partitions.values())
    ok = not errors and left == 0 and acked == args.count
    emit({"ok": ok, "client": "confluent-kafka-python", "topic": args.topic, "count": args.count, "acked": acked,
          "errors": len(errors), "firstError": errors[0] if errors else None, "undelivered": left,
          "idempotence": conf["enable.idempotence"], "compression": conf["compression.type"],
          "partitions": dict(sorted(partitions.items(), key=lambda kv: int(kv[0]))),
          "elapsedMs": int((time.monotonic() - started) * 1000)})
    return 0 if ok else 1


def cmd_group_consume(args):
    """N consumers in one group (one thread each) read the topic until EXPECTED distinct records have been seen
    and the group is stable (every member holds its assignment and together they cover every partition);
    each member commits synchronously after every batch and on revocation."""
    lock = threading.Lock()
    seen = set()          # (partition, offset) pairs, to count distinct records across rebalances
    deliveries = [0]
    stop = threading.Event()
    errors = []
    # assignment is None between a revocation and the next assignment (a rebalance in progress).
    members = [{"index": i, "assignment": None, "count": 0, "assignments": 0} for i in range(args.members)]
    consumers = []
    admin = admin_client(args.bootstrap)
    md = admin.list_topics(args.topic, timeout=ADMIN_TIMEOUT_S)
    partition_count = len(md.topics[args.topic].partitions)

    def stable():
        current = [m["assignment"] for m in members]
        if any(a is None for a in current):
            return False
        return sorted(p for a in current for p in a) == list(range(partition_count))

    def run(m):
        def on_assign(consumer, parts):
            m["assignment"] = sorted(p.partition for p in parts)
            m["assignments"] += 1
            log("member %d assigned %s" % (m["index"], m["assignment"]))

        def on_revoke(consumer, parts):
            try:
                consumer.commit(asynchronous=False)
            except KafkaException as e:
                if e.args[0].code() != KafkaError._NO_OFFSET:
                    log("member %d commit on revoke: %s" % (m["index"], e))
            m["assignment"] = None

        c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group,
                      "auto.offset.reset": "earliest", "enable.auto.commit": False,
                      "client.id": "umbra-confluent-peer-%d" % m["index"],
                      "session.timeout.ms": 10000, "heartbeat.interval.ms": 1000})
        consumers.append(c)
        c.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
        while not stop.is_set():
            msgs = c.consume(num_messages=500, timeout=0.2)
            got = False
            for msg in msgs:
                if msg.error():
                    if msg.error().code() != KafkaError._PARTITION_EOF:
                        errors.append(str(msg.error()))
                    continue
                got = True
                with lock:
                    deliveries[0] += 1
                    seen.add((msg.partition(), msg.offset()))
                m["count"] += 1
            if got:
                try:
                    c.commit(asynchronous=False)
                except KafkaException as e:
                    log("member %d commit: %s" % (m["index"], e))

    threads = [threading.Thread(target=run, args=(m,), daemon=True) for m in members]
    started = time.monotonic()
    for t in threads:
        t.start()
    deadline = started + args.timeout_ms / 1000.0
    while time.monotonic() < deadline:
        with lock:
            done = len(seen) >= args.expected
        if done and stable():
            break
        time.sleep(0.1)
    final_assignment = [m["assignment"] for m in members]
    was_stable = stable()
    stop.set()
    for t in threads:
        t.join(10)

    # Read back what the group committed, through a fresh consumer that does not join the group.
    probe = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group, "enable.auto.commit": False})
    parts = [TopicPartition(args.topic, p) for p in range(partition_count)]
    committed = {}
    for tp in probe.committed(parts, timeout=ADMIN_TIMEOUT_S):
        committed[str(tp.partition)] = tp.offset if tp.offset >= 0 else None
    for c in consumers:
        c.close()
    probe.close()

    ok = len(seen) >= args.expected and was_stable and not errors
    emit({"ok": ok, "client": "confluent-kafka-python", "topic": args.topic, "group": args.group,
          "expected": args.expected, "distinct": len(seen), "deliveries": deliveries[0],
          "members": [{"index": m["index"], "assignment": a, "count": m["count"], "assignments": m["assignments"]}
                      for m, a in zip(members, final_assignment)],
          "partitionCount": partition_count, "stable": was_stable, "committed": committed, "errors": errors[:10],
          "timedOut": time.monotonic() >= deadline,
          "elapsedMs": int((time.monotonic() - started) * 1000)})
    return 0 if ok else 3


def main(argv):
    ap = argparse.ArgumentParser(prog="confluent_peer.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version").set_defaults(fn=cmd_version)

    p = sub.add_parser("metadata")
    p.add_argument("bootstrap")
    p.set_defaults(fn=cmd_metadata)

    p = sub.add_parser("create-topics")
    p.add_argument("bootstrap")
    p.add_argument("partitions", type=int)
    p.add_argument("topics", nargs="+")
    p.add_argument("--replication-factor", type=int, default=1)
    p.add_argument("--config", action="append")
    p.set_defaults(fn=cmd_create_topics)

    p = sub.add_parser("delete-topics")
    p.add_argument("bootstrap")
    p.add_argument("topics", nargs="+")
    p.set_defaults(fn=cmd_delete_topics)

    p = sub.add_parser("describe-configs")
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.set_defaults(fn=cmd_describe_configs)

    p = sub.add_parser("alter-configs")
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.add_argument("configs", nargs="+")
    p.set_defaults(fn=cmd_alter_configs)

    p = sub.add_parser("produce")
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.add_argument("count", type=int)
    p.add_argument("--compression", default="none")
    p.add_argument("--no-idempotence", action="store_true")
    p.add_argument("--config", action="append")
    p.set_defaults(fn=cmd_produce)

    p = sub.add_parser("group-consume")
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.add_argument("group")
    p.add_argument("expected", type=int)
    p.add_argument("timeout_ms", type=int)
    p.add_argument("--members", type=int, default=3)
    p.set_defaults(fn=cmd_group_consume)

    args = ap.parse_args(argv)
    try:
        return args.fn(args)
    except Exception as e:
        emit({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
