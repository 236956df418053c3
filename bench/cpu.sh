#!/usr/bin/env bash
# CPU per request: one route under wrk (64 connections) with the CPU time the server process, all of
# PostgreSQL's processes and the whole machine spent per answered request, read from /proc before and
# after. CPU per request moves far less than req/s on a shared machine, so a change is judged by it,
# runs of the two builds interleaved (BENCH_BIN=/path/to/other/clinic for the other build).
# Rerun: bash bench/cpu.sh sqlite|postgres record|timeline|page|portal|print|ready
# Knobs: BENCH_DURATION (seconds, default 8), BENCH_PATIENTS (default 2000), BENCH_SERIES (default
# 16000, as load.sh: room for 80,000 recordings; fewer ran out on a fast machine: non-2xx answers);
# BENCH_STATEMENTS=1 also prints PostgreSQL's statements by total time (pg_stat_statements must be
# in shared_preload_libraries); BENCH_PROFILE=1 also records the server with perf (call graphs) and
# prints the share of its samples per thread and under the frames named in BENCH_FRAMES (regexes,
# space-separated; a default set otherwise): the CPU figures of such a run include perf's own cost;
# BENCH_PROFILE_OUT=file keeps the samples (perf script text) for a closer look.
# BENCH_LOG sets the server's RUST_LOG (default warn; info is what a server runs without it).
# BENCH_WAL=1 (SQLite) also prints the pages each commit wrote to the WAL, by b-tree
# (bench/wal_pages.py).
# Needs what load.sh needs (and perf for BENCH_PROFILE).
set -euo pipefail
source "$(dirname "$0")/common.sh"
backend=${1:?sqlite or postgres}
route=${2:?record, timeline, page, portal, print or ready}
DURATION="${BENCH_DURATION:-8}"
PATIENTS="${BENCH_PATIENTS:-2000}"
SERIES="${BENCH_SERIES:-16000}"

case $backend in
    postgres)
        db=clinic_bench_cpu
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
        url="${PG_ADMIN%/*}/$db?sslmode=disable"
        trap 'kill $(jobs -p) 2>/dev/null || true; wait; rm -rf "$work"; psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT
        ;;
    sqlite) url="$work/cpu.db" ;;
    *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
out=$(DATABASE_URL="$url" "$BIN" demo --patients "$PATIENTS")
password_of() { echo "$out" | awk -v e="$1" '$2 == e {print $3}'; }
port=$(free_port)
base="http://127.0.0.1:$port"
DATABASE_URL="$url" RUST_LOG="${BENCH_LOG:-warn}" "$BIN" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.1; done
patient=$(login "$base" ana.silva@mail.example "$(password_of ana.silva@mail.example)")
provider=$(login "$base" chen@demo.clinic.example "$(password_of chen@demo.clinic.example)")
patient_id=$(curl -fs -H "Authorization: Bearer $patient" "$base/api/v1/me" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["patient_id"])')
: > "$work/empty.lua"
case $route in
    record)
        python3 bench/open_series.py "$base" "$provider" "$SERIES" > "$work/series"
        export BENCH_SERIES_FILE="$work/series" BENCH_THREADS=2 BENCH_TOKEN="$provider" BENCH_TODAY="$(date -u +%F)"
        args=(-s bench/wrk/record.lua "$base/") ;;
    timeline) args=(-s "$work/empty.lua" -H "Authorization: Bearer $patient" "$base/api/v1/me/timeline") ;;
    page) args=(-s "$work/empty.lua" -H "Cookie: clinic_session=$provider" "$base/patients/$patient_id") ;;
    portal) args=(-s "$work/empty.lua" -H "Cookie: clinic_session=$patient" "$base/portal") ;;
    print) args=(-s "$work/empty.lua" -H "Cookie: clinic_session=$patient" "$base/portal/print") ;;
    ready) args=(-s "$work/empty.lua" "$base/ready") ;;
    *) echo "route: record, timeline, page, portal, print or ready" >&2; exit 2 ;;
esac

if [ "$backend" = postgres ] && [ -n "${BENCH_STATEMENTS:-}" ]; then
    psql "$url" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
fi
if [ -n "${BENCH_PROFILE:-}" ]; then
    # From the second second to one before the end, so the profile holds only the steady load.
    (sleep 1; perf record -q -F 999 -g --call-graph dwarf,16384 -p "$pid" -o "$work/perf.data" \
        -- sleep $((DURATION > 3 ? DURATION - 2 : 1)) >/dev/null 2>&1) &
    profiler=$!
fi
s0=$(ticks $pid); p0=$(postgres_ticks); m0=$(machine_ticks)
result=$(wrk -t 2 -c 64 -d "${DURATION}s" --latency "${args[@]}")
s1=$(ticks $pid); p1=$(postgres_ticks); m1=$(machine_ticks)
echo "$result" | python3 -c "
import re, sys
text = sys.stdin.read()
answered = int(re.search(r'(\d+) requests in', text).group(1))
non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
rate = re.search(r'Requests/sec:\s+([\d.]+)', text).group(1)
p99 = re.search(r'\s99%\s+(\S+)', text).group(1)
us = lambda ticks: ticks * 1e6 / $(getconf CLK_TCK) / max(answered, 1)
print('%s %s: %s req/s, p99 %s, non-2xx %s; CPU per request: server %.0f us, PostgreSQL %.0f us, machine %.0f us'
      % ('$backend', '$route', rate, p99, non2xx.group(1) if non2xx else 0,
         us($s1 - $s0), us($p1 - $p0), us($m1 - $m0)))"
if [ "$backend" = postgres ] && [ -n "${BENCH_STATEMENTS:-}" ]; then
    psql "$url" -c "SELECT calls, round(total_exec_time::numeric, 0) AS total_ms,
        round((total_exec_time / nullif(calls, 0))::numeric, 3) AS ms_each,
        left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS statement
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25"
fi
if [ "$backend" = sqlite ] && [ -n "${BENCH_WAL:-}" ]; then
    # The server is idle now: a copy of the database and its WAL, read by the copy.
    sleep 1
    cp "$url" "$work/wal.db" && cp "$url-wal" "$work/wal.db-wal"
    python3 bench/wal_pages.py "$work/wal.db"
fi
if [ -n "${BENCH_PROFILE:-}" ]; then
    wait "$profiler"
    # The default frames: the request's reads and writes, the audit writer's insert, its commit and
    # fsync, sending the answer, the tracing middleware.
    read -r -a frames <<< "${BENCH_FRAMES:-clinic_web::run::traced clinic_db::audit::insert_many \
        sqlite3VdbeHalt fsync poll_write TracingLogger TimelineCache TokenKeys::verify askama}"
    perf script -i "$work/perf.data" -F comm,ip,sym --no-inline 2>/dev/null > "$work/perf.txt"
    python3 bench/perf_shares.py "${frames[@]}" < "$work/perf.txt"
    if [ -n "${BENCH_PROFILE_OUT:-}" ]; then cp "$work/perf.txt" "$BENCH_PROFILE_OUT"; fi
fi
