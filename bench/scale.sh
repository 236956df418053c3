#!/usr/bin/env bash
# Scale across processes: the patient's timeline API served by one `clinic serve` pinned to one core,
# then by two processes on the same PostgreSQL database pinned to a core each, in one run.
# Prints each setup's rate, the ratio (two / one), and the CPU time the servers, PostgreSQL and the
# whole machine spent per request in each (from /proc): when two processes cost no more a request than
# one, they do not hold each other back, and the rate is bounded by the cores. Rerun: bash bench/scale.sh
# Needs: wrk, taskset (util-linux), python3, curl, psql and an admin URL (BENCH_PG_ADMIN) as load.sh;
# PostgreSQL 15 or later (pg_stat_force_next_flush, for the commit counts).
# Knobs: BENCH_DURATION (default 10s), BENCH_PATIENTS (default 10000).
# On a 2-core machine wrk and PostgreSQL run on the same two cores as the servers (unpinned): the
# figure says what this machine allows, not what two free cores would give.
set -euo pipefail
source "$(dirname "$0")/common.sh"
DURATION="${BENCH_DURATION:-10s}"
PATIENTS="${BENCH_PATIENTS:-10000}"
db=clinic_bench_scale
url="${PG_ADMIN%/*}/$db?sslmode=disable"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
out=$(DATABASE_URL="$url" "$BIN" demo --patients "$PATIENTS")
password=$(echo "$out" | awk '$2 == "ana.silva@mail.example" {print $3}')
cat bench/wrk/report.lua > "$work/script.lua"

# serve CORE: a server pinned to CORE; prints its port.
serve() {
    local port
    port=$(free_port)
    DATABASE_URL="$url" RUST_LOG=warn taskset -c "$1" "$BIN" serve --bind "127.0.0.1:$port" \
        >>"$work/serve.log" 2>&1 &
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    echo "$port"
}

# rate CONNECTIONS PORT: timeline requests per second from one wrk run against PORT.
rate() {
    wrk -t 1 -c "$1" -d "$DURATION" -s "$work/script.lua" -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$2/api/v1/me/timeline" | awk '$1 == "RESULT" {print $2, $5}'
}

# ticks_now PID...: the servers' ticks, PostgreSQL's and the machine's.
ticks_now() { echo "$(ticks "$@") $(postgres_ticks) $(machine_ticks) $(commits)"; }
# PostgreSQL's commits in the benchmark's database (stats are flushed at most once a second).
commits() { psql "$PG_ADMIN" -Atc "SELECT pg_stat_force_next_flush(); SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'" | tail -n 1; }
pid_of() { pgrep -f -- "--bind 127.0.0.1:$1"; }

one=$(serve 0)
token=$(login "http://127.0.0.1:$one" ana.silva@mail.example "$password")
before=$(ticks_now "$(pid_of "$one")")
single=$(rate 64 "$one")
single_cpu="$before $(ticks_now "$(pid_of "$one")")"
two=$(serve 1)
before=$(ticks_now "$(pid_of "$one")" "$(pid_of "$two")")
rate 32 "$one" > "$work/a" &
first=$!
rate 32 "$two" > "$work/b"
wait "$first"
double_cpu="$before $(ticks_now "$(pid_of "$one")" "$(pid_of "$two")")"
kill $(jobs -p) 2>/dev/null || true
wait 2>/dev/null || true
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null

read -r r1 e1 <<<"$single"
read -r ra ea <"$work/a"
read -r rb eb <"$work/b"
echo "cores: $(nproc); wrk and PostgreSQL unpinned; $PATIENTS demo patients; wrk $DURATION"
printf 'one process (core 0), 64 connections:         %9.0f req/s (non-2xx %s)\n' "$r1" "$e1"
printf 'two processes (cores 0 and 1), 32 connections each: %9.0f req/s (non-2xx %s + %s)\n' \
    "$(python3 -c "print($ra + $rb)")" "$ea" "$eb"
python3 -c "print('two / one = %.2f (target >= 1.6)' % (($ra + $rb) / $r1))"
python3 - "$DURATION" "$(getconf CLK_TCK)" "$r1" "$single_cpu" "$(python3 -c "print($ra + $rb)")" "$double_cpu" <<'PY'
import re, sys
duration, hz = sys.argv[1], int(sys.argv[2])
number, unit = re.fullmatch(r"([\d.]+)([smh]?)", duration).groups()
seconds = float(number) * {"": 1, "s": 1, "m": 60, "h": 3600}[unit]
for name, rate, span in (("one process", sys.argv[3], sys.argv[4]), ("two processes", sys.argv[5], sys.argv[6])):
    t = [int(x) for x in span.split()]
    requests = max(float(rate) * seconds, 1)
    us = [(t[i + 4] - t[i]) * 1e6 / hz / requests for i in range(3)]
    commits = (t[7] - t[3]) / requests
    print("%s: CPU per request: servers %.0f us, PostgreSQL %.0f us, machine %.0f us; PostgreSQL commits per request %.3f"
          % (name, *us, commits))
PY
