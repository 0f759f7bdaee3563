#!/usr/bin/env bash
# Builds keel-app and keel-bench and runs the server benchmark (a program, not a test): ready time,
# idle RSS, POST /v1/runs per second and GET p99 under load (wrk if installed), heap with 10,000
# open SSE streams. Arguments go to dev.keel.bench.ServerBench:
#   [--store sqlite|postgres] [--seconds N] [--clients N] [--streams N] [--warmup S]
#   [--idempotency-key true]
# MAVEN_ARGS is passed to Maven (for example -o to build offline).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${KEEL_BENCH_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
# shellcheck disable=SC2086
./mvnw -q ${MAVEN_ARGS:-} -pl keel-app,keel-bench package -DskipTests -DskipITs
exec "$JAVA_HOME/bin/java" -Xmx1g -cp "$(cat keel-bench/target/classpath.txt):keel-bench/target/classes" \
  dev.keel.bench.ServerBench "$@"
