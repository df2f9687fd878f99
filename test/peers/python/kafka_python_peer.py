#!/usr/bin/python3
"""kafka-python as a test peer, driven from Node (test/helpers/peers.ts).

Runs under Debian's /usr/bin/python3 (package python3-kafka: kafka-python 2.0.2). 2.0.2 does not negotiate
versions: it infers the broker's version from ApiVersions v0 and then sends fixed request versions
(Produce 7, Fetch 4, Metadata 1, JoinGroup 2, OffsetCommit 2, ...), which makes it a good old-client check.

Output contract: logs go to stderr; stdout gets JSON lines, and the LAST line is the result object,
{"ok": true, ...} or {"ok": false, "error": "..."} with a non-zero exit.

  kafka_python_peer.py version
  kafka_python_peer.py produce BOOTSTRAP TOPIC COUNT [--compression gzip] [--acks all|1|0]
  kafka_python_peer.py consume BOOTSTRAP TOPIC GROUP COUNT TIMEOUT_MS [--no-records]
  kafka_python_peer.py create-acls BOOTSTRAP ACLS_JSON        KafkaAdminClient.create_acls
  kafka_python_peer.py describe-acls BOOTSTRAP FILTER_JSON    KafkaAdminClient.describe_acls
  kafka_python_peer.py delete-acls BOOTSTRAP FILTER_JSON      KafkaAdminClient.delete_acls (one filter)

ACLs and filters are JSON objects with Kafka's names: {"resourceType": "TOPIC", "name": "orders",
"patternType": "LITERAL", "principal": "User:bob", "host": "*", "operation": "WRITE", "permission": "ALLOW"};
in a filter, null / "ANY" (and "MATCH" for patternType) select any value. ACLs come back in the same form.
"""

import argparse
import os
import json
import logging
import sys
import time

import kafka
import kafka.errors
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, KafkaAdminClient,
                         ResourcePattern, ResourcePatternFilter, ResourceType)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def text(b):
    return None if b is None else b.decode("utf-8", "replace")


def cmd_version(_args):
    emit({"ok": True, "client": "kafka-python", "version": kafka.__version__})
    return 0


def client_config():
    # Extra client settings (e.g. SASL) as JSON in the environment, never on the command line, so a password
    # never shows up in a process list or in the command a failing test prints.
    raw = os.environ.get("KAFKA_PYTHON_CLIENT_CONFIG")
    return json.loads(raw) if raw else {}


def cmd_produce(args):
    acks = args.acks if args.acks == "all" else int(args.acks)
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks=acks, compression_type=args.compression,
                             client_id="umbra-kafka-python-peer", linger_ms=5, request_timeout_ms=30000,
                             **client_config())
    started = time.monotonic()
    futures = [producer.send(args.topic, key=b"key-%d" % i, value=b"value-%d" % i,
                             headers=[("peer", b"kafka-python"), ("seq", b"%d" % i)])
               for i in range(args.count)]
    producer.flush(60)
    partitions, errors = {}, []
    for f in futures:
        try:
            md = f.get(timeout=30)
        except Exception as e:
            errors.append("%s: %s" % (type(e).__name__, e))
            continue
        s = partitions.setdefault(str(md.partition), {"count": 0, "firstOffset": None, "lastOffset": None})
        s["count"] += 1
        if md.offset >= 0:  # acks=0 reports -1
            s["firstOffset"] = md.offset if s["firstOffset"] is None else min(s["firstOffset"], md.offset)
            s["lastOffset"] = md.offset if s["lastOffset"] is None else max(s["lastOffset"], md.offset)
    api_version = producer.config.get("api_version")
    producer.close(10)
    acked = sum(p["count"] for p in partitions.values())
    ok = not errors and acked == args.count
    emit({"ok": ok, "client": "kafka-python", "version": kafka.__version__,
          "inferredBrokerVersion": list(api_version) if api_version else None,
          "topic": args.topic, "count": args.count, "acked": acked, "errors": len(errors),
          "firstError": errors[0] if errors else None, "compression": args.compression,
          "partitions": dict(sorted(partitions.items(), key=lambda kv: int(kv[0]))),
          "elapsedMs": int((time.monotonic() - started) * 1000)})
    return 0 if ok else 1


def cmd_consume(args):
    consumer = KafkaConsumer(args.topic, bootstrap_servers=args.bootstrap, group_id=args.group,
                             client_id="umbra-kafka-python-peer", auto_offset_reset="earliest",
                             enable_auto_commit=False, session_timeout_ms=10000, heartbeat_interval_ms=1000,
                             **client_config())
    records, per_partition = [], {}
    read = 0
    started = time.monotonic()
    deadline = started + args.timeout_ms / 1000.0
    while (args.count <= 0 or read < args.count) and time.monotonic() < deadline:
        left_ms = max(1, int((deadline - time.monotonic()) * 1000))
        batch = consumer.poll(timeout_ms=min(500, left_ms))
        for _tp, msgs in batch.items():
            for m in msgs:
                read += 1
                per_partition[str(m.partition)] = per_partition.get(str(m.partition), 0) + 1
                if not args.no_records:
                    records.append({"partition": m.partition, "offset": m.offset, "timestamp": m.timestamp,
                                    "key": text(m.key), "value": text(m.value),
                                    "headers": {k: text(v) for k, v in (m.headers or [])}})
        if batch:
            consumer.commit()
    consumer.commit()
    committed = {}
    for tp in sorted(consumer.assignment(), key=lambda tp: tp.partition):
        off = consumer.committed(TopicPartition(tp.topic, tp.partition))
        committed[str(tp.partition)] = off
    api_version = consumer.config.get("api_version")
    consumer.close()
    timed_out = args.count > 0 and read < args.count
    out = {"ok": not timed_out, "client": "kafka-python", "version": kafka.__version__,
           "inferredBrokerVersion": list(api_version) if api_version else None,
           "topic": args.topic, "group": args.group, "count": read, "timedOut": timed_out,
           "partitions": dict(sorted(per_partition.items(), key=lambda kv: int(kv[0]))),
           "committed": committed, "elapsedMs": int((time.monotonic() - started) * 1000)}
    if not args.no_records:
        out["records"] = records
    emit(out)
    return 3 if timed_out else 0


def acl_json(acl):
    rp = acl.resource_pattern
    return {"resourceType": rp.resource_type.name, "name": rp.resource_name, "patternType": rp.pattern_type.name,
            "principal": acl.principal, "host": acl.host, "operation": acl.operation.name,
            "permission": acl.permission_type.name}


def acl_from_json(j, filter=False):
    pattern_cls = ResourcePatternFilter if filter else ResourcePattern
    default = "ANY" if filter else None
    pattern = pattern_cls(ResourceType[j.get("resourceType") or default], j.get("name"),
                          ACLResourcePatternType[j.get("patternType") or ("ANY" if filter else "LITERAL")])
    cls = ACLFilter if filter else ACL
    return cls(principal=j.get("principal"), host=j.get("host", None if filter else "*"),
               operation=ACLOperation[j.get("operation") or default],
               permission_type=ACLPermissionType[j.get("permission") or default], resource_pattern=pattern)


def admin_client(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="umbra-kafka-python-peer-admin",
                            request_timeout_ms=30000, **client_config())


def cmd_create_acls(args):
    admin = admin_client(args.bootstrap)
    try:
        res = admin.create_acls([acl_from_json(j) for j in json.loads(args.acls)])
    finally:
        admin.close()
    failed = [{"acl": acl_json(a), "error": e.__name__ if isinstance(e, type) else type(e).__name__} for a, e in res["failed"]]
    emit({"ok": not failed, "client": "kafka-python", "created": [acl_json(a) for a in res["succeeded"]], "failed": failed})
    return 0 if not failed else 1


def cmd_describe_acls(args):
    admin = admin_client(args.bootstrap)
    try:
        acls, error = admin.describe_acls(acl_from_json(json.loads(args.filter), filter=True))
    finally:
        admin.close()
    ok = error is kafka.errors.NoError or isinstance(error, kafka.errors.NoError)
    emit({"ok": ok, "client": "kafka-python", "acls": [acl_json(a) for a in acls],
          "error": None if ok else getattr(error, "__name__", type(error).__name__)})
    return 0 if ok else 1


def cmd_delete_acls(args):
    admin = admin_client(args.bootstrap)
    try:
        results = admin.delete_acls([acl_from_json(json.loads(args.filter), filter=True)])
    finally:
        admin.close()
    _filter, matches, error = results[0]
    ok = error is kafka.errors.NoError or isinstance(error, kafka.errors.NoError)
    emit({"ok": ok, "client": "kafka-python", "deleted": [acl_json(a) for a, _e in matches],
          "error": None if ok else getattr(error, "__name__", type(error).__name__)})
    return 0 if ok else 1


def main(argv):
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    ap = argparse.ArgumentParser(prog="kafka_python_peer.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version").set_defaults(fn=cmd_version)

    p = sub.add_parser("produce")
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.add_argument("count", type=int)
    p.add_argument("--compression", default=None, choices=[None, "gzip", "snappy", "lz4", "zstd"])
    p.add_argument("--acks", default="all", choices=["all", "1", "0"])
    p.set_defaults(fn=cmd_produce)

    p = sub.add_parser("consume")
    p.add_argument("bootstrap")
    p.add_argument("topic")
    p.add_argument("group")
    p.add_argument("count", type=int)
    p.add_argument("timeout_ms", type=int)
    p.add_argument("--no-records", action="store_true")
    p.set_defaults(fn=cmd_consume)

    p = sub.add_parser("create-acls")
    p.add_argument("bootstrap")
    p.add_argument("acls", help="JSON list of ACLs")
    p.set_defaults(fn=cmd_create_acls)

    p = sub.add_parser("describe-acls")
    p.add_argument("bootstrap")
    p.add_argument("filter", help="JSON ACL filter")
    p.set_defaults(fn=cmd_describe_acls)

    p = sub.add_parser("delete-acls")
    p.add_argument("bootstrap")
    p.add_argument("filter", help="JSON ACL filter")
    p.set_defaults(fn=cmd_delete_acls)

    args = ap.parse_args(argv)
    try:
        return args.fn(args)
    except Exception as e:
        emit({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
