#!/usr/bin/env bash
# Builds keel-bench and runs the benchmark program (a program that prints figures, not a test).
#
#   keel-bench/run.sh                         # everything: SQLite, PostgreSQL, in-memory, heap
#   keel-bench/run.sh --store sqlite --quick  # small counts, one store
#   keel-bench/run.sh --mode heap --heap-store sqlite
#   keel-bench/run.sh --store postgres --mode soak --workload 1x200 --seconds 60   # for a profiler
#
# Arguments go to dev.keel.bench.KeelBench:
#   [--store sqlite|postgres|memory|all] [--mode all|throughput|heap]
#   [--heap-store sqlite|postgres|all] (default sqlite) [--heap-runs N] [--quick] [--out FILE]
# PostgreSQL is reached through PG_URL (default jdbc:postgresql://127.0.0.1:5432/test), PG_USER
# (default postgres) and PG_PASSWORD; the benchmark creates and drops its own database there.
# The results table is printed and written to keel-bench/target/bench-results.md.
# MAVEN_ARGS is passed to Maven (for example -o to build offline); KEEL_BENCH_JAVA_OPTS to the JVM
# (for example -XX:StartFlightRecording=filename=/tmp/keel.jfr,settings=profile with --mode soak).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${KEEL_BENCH_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
# shellcheck disable=SC2086
./mvnw -q ${MAVEN_ARGS:-} -pl keel-bench package -DskipTests
exec "$JAVA_HOME/bin/java" ${KEEL_BENCH_JAVA_OPTS:-} -Xms64m -Xmx1g -XX:+UseG1GC --enable-native-access=ALL-UNNAMED \
  -cp "$(cat keel-bench/target/classpath.txt):keel-bench/target/classes" \
  dev.keel.bench.KeelBench --out keel-bench/target/bench-results.md "$@"
