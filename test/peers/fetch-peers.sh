#!/usr/bin/env bash
# Fetches the real Apache Kafka peers from Maven Central and compiles the Java client peer.
#
#   test/peers/fetch-peers.sh            idempotent; a fast no-op when everything is in place
#   UMBRA_PEERS_DIR=/some/dir ...        cache root (default: $HOME/.cache/umbra-peers)
#   UMBRA_PEERS_FORCE=1 ...              refetch and recompile
#
# Layout (read by test/helpers/kafka.ts, which takes the version from the same pom.xml):
#   $UMBRA_PEERS_DIR/kafka-<version>/libs/      every runtime jar: broker, tools, MirrorMaker 2, clients, log4j2
#   $UMBRA_PEERS_DIR/kafka-<version>/classes/   umbra/peer/ClientPeer.class
#   $UMBRA_PEERS_DIR/kafka-<version>/*.stamp    hashes of the inputs each folder was built from
# Maven's own cache (~/.m2/repository) also survives between runs, so a refetch needs no network.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
java_dir="$here/java"
pom="$java_dir/pom.xml"
src_dir="$java_dir/src/main/java"

version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n1)"
if [[ -z "$version" ]]; then
  echo "fetch-peers: no <kafka.version> in $pom" >&2
  exit 1
fi
root="${UMBRA_PEERS_DIR:-$HOME/.cache/umbra-peers}"
dest="$root/kafka-$version"
mkdir -p "$dest"

for tool in mvn javac java sha256sum flock; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch-peers: '$tool' is not installed (Maven and a JDK 17+ are needed; .ci/run installs them)" >&2
    exit 1
  fi
done

# One fetch at a time per cache (two CI jobs or two test runs on the same machine).
exec 9>"$root/.lock"
flock 9

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

libs_hash="$(hash_of "$pom")"
if [[ "${UMBRA_PEERS_FORCE:-}" != "1" && -f "$dest/libs.stamp" && "$(cat "$dest/libs.stamp")" == "$libs_hash" && -d "$dest/libs" ]]; then
  echo "fetch-peers: Kafka $version jars already in $dest/libs"
else
  echo "fetch-peers: resolving Kafka $version (server, clients, tools, MirrorMaker 2) from Maven Central into $dest/libs"
  start=$SECONDS
  rm -rf "$dest/libs.tmp" "$dest/libs.stamp"
  mvn -B -q -Dstyle.color=never -f "$pom" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dest/libs.tmp"
  rm -rf "$dest/libs"
  mv "$dest/libs.tmp" "$dest/libs"
  echo "$libs_hash" >"$dest/libs.stamp"
  echo "fetch-peers: $(ls "$dest/libs" | wc -l) jars in $((SECONDS - start))s"
  rm -f "$dest/classes.stamp" # compiled against the old jars
fi

mapfile -t sources < <(find "$src_dir" -name '*.java' | sort)
classes_hash="$(hash_of "$pom" "${sources[@]}")"
if [[ "${UMBRA_PEERS_FORCE:-}" != "1" && -f "$dest/classes.stamp" && "$(cat "$dest/classes.stamp")" == "$classes_hash" && -d "$dest/classes" ]]; then
  echo "fetch-peers: ClientPeer already compiled in $dest/classes"
else
  echo "fetch-peers: compiling ${#sources[@]} Java source(s) against kafka-clients $version"
  rm -rf "$dest/classes.tmp"
  mkdir -p "$dest/classes.tmp"
  javac -nowarn --release 17 -encoding UTF-8 -d "$dest/classes.tmp" -cp "$dest/libs/*" "${sources[@]}"
  rm -rf "$dest/classes"
  mv "$dest/classes.tmp" "$dest/classes"
  echo "$classes_hash" >"$dest/classes.stamp"
fi

echo "fetch-peers: ready: Apache Kafka $version peers in $dest"
