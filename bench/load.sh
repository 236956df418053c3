#!/usr/bin/env bash
# Load benchmark: throughput, latency and peak memory of the main routes, on SQLite and on PostgreSQL,
# in one run on this machine (wrk, 64 connections unless named). Rerun: bash bench/load.sh
# Prints one table per database and the ratios the targets in docs/performance.md are stated in.
# Needs: wrk (apt-get install wrk), python3, curl, psql; for PostgreSQL an admin URL (BENCH_PG_ADMIN,
# default postgres://postgres@127.0.0.1:5432/postgres) whose role may create databases.
# Knobs: BENCH_DURATION (default 10s), BENCH_PATIENTS (demo patients, default 20000),
# BENCH_SERIES (open series written into, one per patient, default 16000: room for 80,000 sessions,
# 8,000/s for 10 s; a faster run would count refusals, and the summary says so), BENCH_BACKENDS
# (default "sqlite postgres"),
# BENCH_PG_SSLMODE (libpq sslmode of the app's connections, default disable: plain TCP, as in
# docker-compose.yml, whose postgres image has no TLS; "require" measures TLS to the database).
set -euo pipefail
source "$(dirname "$0")/common.sh"
DURATION="${BENCH_DURATION:-10s}"
PATIENTS="${BENCH_PATIENTS:-20000}"
SERIES="${BENCH_SERIES:-16000}"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
CONNECTIONS=64
THREADS=2

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# run NAME CONNECTIONS SCRIPT PATH [wrk args...]: one wrk run, one line in the results.
run() {
    local name=$1 conns=$2 script=$3 path=$4
    shift 4
    cat "$script" bench/wrk/report.lua > "$work/script.lua"
    local line
    line=$(wrk -t "$THREADS" -c "$conns" -d "$DURATION" --latency -s "$work/script.lua" "$@" "$base$path" |
        awk '$1 == "RESULT"')
    echo "$backend $name $conns ${line#RESULT }" >> "$work/results"
    # The server's resident memory after each route, to see which one raises the peak.
    awk -v n="$name" '$1 == "VmRSS:" {printf " %s %.1f", n, $2 / 1024}' "/proc/$pid/status" \
        >> "$work/rss-$backend"
}

measure() { # backend url
    backend=$1
    local url=$2 out port pid
    out=$(DATABASE_URL="$url" "$BIN" demo --patients "$PATIENTS")
    password_of() { echo "$out" | awk -v e="$1" '$2 == e {print $3}'; }
    port=$(free_port)
    base="http://127.0.0.1:$port"
    DATABASE_URL="$url" RUST_LOG=warn CLINIC_TRUSTED_PROXIES=127.0.0.1 "$BIN" serve --bind "127.0.0.1:$port" \
        >"$work/serve-$backend.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.1; done

    local patient provider provider_password patient_id today
    patient=$(login "$base" ana.silva@mail.example "$(password_of ana.silva@mail.example)")
    provider_password=$(password_of chen@demo.clinic.example)
    provider=$(login "$base" chen@demo.clinic.example "$provider_password")
    patient_id=$(curl -fs -H "Authorization: Bearer $patient" "$base/api/v1/me" | json_field '["patient_id"]')
    today=$(date -u +%F)
    python3 bench/open_series.py "$base" "$provider" "$SERIES" > "$work/series"

    local empty="$work/empty.lua"
    : > "$empty"
    run health $CONNECTIONS "$empty" /health
    run ready $CONNECTIONS "$empty" /ready
    run timeline_api $CONNECTIONS "$empty" /api/v1/me/timeline -H "Authorization: Bearer $patient"
    run timeline_page $CONNECTIONS "$empty" /portal -H "Cookie: clinic_session=$patient"
    run provider_patient_page $CONNECTIONS "$empty" "/patients/$patient_id" -H "Cookie: clinic_session=$provider"
    BENCH_SERIES_FILE="$work/series" BENCH_THREADS=$THREADS BENCH_TOKEN="$provider" BENCH_TODAY="$today" \
        run record_session $CONNECTIONS bench/wrk/record.lua /
    BENCH_EMAIL=chen@demo.clinic.example BENCH_PASSWORD="$provider_password" \
        run sign_in 32 bench/wrk/login.lua /api/v1/auth/login
    # /health while 32 sign-ins run at once.
    BENCH_EMAIL=chen@demo.clinic.example BENCH_PASSWORD="$provider_password" \
        run sign_in_background 32 bench/wrk/login.lua /api/v1/auth/login &
    local bg=$!
    sleep 1
    run health_during_sign_in $CONNECTIONS "$empty" /health
    wait "$bg"

    local rss
    rss=$(awk '$1 == "VmHWM:" {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
    echo "$backend peak_rss_mb $rss (MB after each route:$(cat "$work/rss-$backend"))" >> "$work/rss"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

for backend_name in $BACKENDS; do
    case $backend_name in
        sqlite) measure sqlite "$work/load.db" ;;
        postgres)
            db=clinic_bench_load
            psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
            measure postgres "${PG_ADMIN%/*}/$db?sslmode=${BENCH_PG_SSLMODE:-disable}"
            psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
            ;;
    esac
done

echo "wrk -t $THREADS -d $DURATION; $PATIENTS demo patients; $SERIES open series written into;" \
    "PostgreSQL sslmode=${BENCH_PG_SSLMODE:-disable}"
printf '%-9s %-22s %5s %9s %8s %8s %8s %7s\n' backend route conns req_s p50_ms p99_ms non2xx errors
awk '{printf "%-9s %-22s %5s %9s %8s %8s %8s %7s\n", $1, $2, $3, $4, $5, $6, $7, $8}' "$work/results"
cat "$work/rss"
awk '{rate[$1 "/" $2] = $4; p99[$1 "/" $2] = $6; non2xx[$1 "/" $2] = $7} END {
    split("sqlite postgres", bs, " ")
    for (i = 1; i <= 2; i++) {
        b = bs[i]
        if (rate[b "/ready"] > 0)
            printf "%s: timeline API / ready = %.2f (target >= %s), timeline API p99 %s ms (target < %s), " \
                "/health p99 during 32 sign-ins %s ms (target < 10), record session %s/s (target >= %s)\n",
                b, rate[b "/timeline_api"] / rate[b "/ready"], b == "sqlite" ? "0.70" : "0.55",
                p99[b "/timeline_api"], b == "sqlite" ? "10" : "15", p99[b "/health_during_sign_in"],
                rate[b "/record_session"], b == "sqlite" ? "2000" : "1200"
        if (non2xx[b "/record_session"] > 0)
            printf "%s: record session answered %s non-2xx: the run outran its open series (raise " \
                "BENCH_SERIES and BENCH_PATIENTS); its rate counts refusals\n", b, non2xx[b "/record_session"]
    }
}' "$work/results"
echo "(peak RSS target: under 80 MB)"
