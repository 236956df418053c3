#!/usr/bin/env bash
# Series-report benchmark: the report's response time at 10k and 100k patients (about 30k and 300k
# sessions), on SQLite and on PostgreSQL, in one run on this machine. Prints median and p90 of 30
# requests each, and the 100k/10k ratio. Rerun: bash bench/report.sh
# Needs: a production build (made here), curl, and for PostgreSQL an admin URL (BENCH_PG_ADMIN, default
# postgres://postgres@127.0.0.1:5432/postgres) whose role may create databases. BENCH_SIZES and
# BENCH_BACKENDS (default "sqlite postgres") narrow the run.
set -euo pipefail
source "$(dirname "$0")/common.sh"
SIZES="${BENCH_SIZES:-10000 100000}"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
REQUESTS=30


measure() { # backend size url
    local backend=$1 size=$2 url=$3 port out password token
    out=$(DATABASE_URL="$url" "$BIN" demo --patients "$size")
    password=$(echo "$out" | awk '$1 == "manager" {print $3}')
    port=$(free_port)
    DATABASE_URL="$url" RUST_LOG=warn "$BIN" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    token=$(login "http://127.0.0.1:$port" manager@demo.clinic.example "$password")
    for _ in 1 2 3; do curl -fs -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/reports/series"; done
    for _ in $(seq 1 $REQUESTS); do
        curl -fs -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/reports/series"
    done | sort -n > "$work/times"
    local median p90
    median=$(awk -v n=$REQUESTS 'NR == int(n/2) {printf "%.1f", $1 * 1000}' "$work/times")
    p90=$(awk -v n=$REQUESTS 'NR == int(n*0.9) {printf "%.1f", $1 * 1000}' "$work/times")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$backend $size $median $p90"
}

results="$work/results"
for size in $SIZES; do
    if [[ " $BACKENDS " == *" sqlite "* ]]; then
        measure sqlite "$size" "$work/bench-$size.db" >> "$results"
    fi
    if [[ " $BACKENDS " == *" postgres "* ]]; then
        db="clinic_bench_$size"
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
        measure postgres "$size" "${PG_ADMIN%/*}/$db" >> "$results"
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    fi
done

echo "backend    patients  median_ms  p90_ms"
awk '{printf "%-10s %8s %10s %7s\n", $1, $2, $3, $4}' "$results"
for backend in $BACKENDS; do
    awk -v b=$backend '$1 == b {t[++n] = $3} END {if (n >= 2 && t[1] > 0) printf "%s: largest/smallest time ratio %.1f\n", b, t[n] / t[1]}' "$results"
done
