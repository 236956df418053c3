#!/usr/bin/env bash
# E-mail benchmark: how fast the outbox drains into a local SMTP server (aiosmtpd, tests/smtp/sink.py)
# with one and with two `clinic serve` processes on one PostgreSQL database, and what delivering costs
# the patient's timeline API (its ratio to /ready, with and without the worker busy). Rerun:
# bash bench/mail.sh. Needs wrk, psql, python3 with aiosmtpd (pip install aiosmtpd).
# Knobs: BENCH_MESSAGES (default 10000), BENCH_DURATION (wrk, default 10s), BENCH_PG_ADMIN.
set -euo pipefail
source "$(dirname "$0")/common.sh"
MESSAGES="${BENCH_MESSAGES:-10000}"
DURATION="${BENCH_DURATION:-10s}"
db=clinic_bench_mail
url="${PG_ADMIN%/*}/$db?sslmode=disable"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
out=$(DATABASE_URL="$url" "$BIN" demo)
password_of() { echo "$out" | awk -v e="$1" '$2 == e {print $3}'; }
sql() { psql "$url" -Atqc "$1"; }

sink_port=$(free_port)
mkdir -p "$work/mail"
sleep 1000000 | python3 tests/smtp/sink.py --port "$sink_port" --out "$work/mail" > "$work/sink.log" 2>&1 &
for _ in $(seq 1 50); do grep -q ready "$work/sink.log" && break; sleep 0.1; done

# MESSAGES reminders due now, for Ana's latest session (real rows: each is rendered from her timeline).
queue() {
    sql "UPDATE outbox SET status = 'cancelled' WHERE status <> 'sent'"
    sql "INSERT INTO outbox (kind, status, recipient, patient_id, session_id, message_id, scheduled_for, next_attempt_at)
         SELECT 'reminder_day_1', 'queued', 'ana.silva@mail.example', s.patient_id, s.id,
                '<bench-$1-' || g || '@clinic.example>', now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc'
         FROM generate_series(1, $MESSAGES) g,
              (SELECT id, patient_id FROM sessions ORDER BY performed_on DESC, id DESC LIMIT 1) s"
}

start_server() { # log file; sets BASE and PID
    local port
    port=$(free_port)
    DATABASE_URL="$url" RUST_LOG=warn CLINIC_SMTP_URL="smtp://127.0.0.1:$sink_port" \
        CLINIC_MAIL_FROM=desk@clinic.example "$BIN" serve --bind "127.0.0.1:$port" >"$1" 2>&1 &
    PID=$!
    BASE="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do curl -fs "$BASE/health" >/dev/null && break; sleep 0.1; done
}

drain() { # label processes
    local label=$1 processes=$2 start pids=() elapsed remaining
    queue "$label"
    start=$(date +%s.%N)
    for i in $(seq 1 "$processes"); do start_server "$work/serve-$label-$i.log"; pids+=("$PID"); done
    while true; do
        remaining=$(sql "SELECT count(*) FROM outbox WHERE status = 'queued'")
        [ "$remaining" -eq 0 ] && break
        sleep 0.2
    done
    elapsed=$(python3 -c "import time; print(time.time() - $start)")
    kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
    printf "%-28s %6d messages in %6.1f s: %7.1f per second\n" "$label ($processes process)" \
        "$MESSAGES" "$elapsed" "$(python3 -c "print($MESSAGES / $elapsed)")"
}

drain one 1
drain two 2
echo "sent twice (Message-IDs received more than once): $(grep -rh '^Message-ID:' "$work/mail" | sort | uniq -d | wc -l)"
echo "failed: $(sql "SELECT count(*) FROM outbox WHERE status = 'failed'")"

# The timeline API against /ready, idle and while the worker delivers MESSAGES.
ratio() { # label
    local base token ready timeline pid
    start_server "$work/serve-ratio-$1.log"
    base=$BASE pid=$PID
    token=$(login "$base" ana.silva@mail.example "$(password_of ana.silva@mail.example)")
    cat bench/wrk/report.lua > "$work/report.lua"
    ready=$(wrk -t 2 -c 64 -d "$DURATION" -s "$work/report.lua" "$base/ready" | awk '$1 == "RESULT" {print $2}')
    timeline=$(wrk -t 2 -c 64 -d "$DURATION" -s "$work/report.lua" -H "Authorization: Bearer $token" \
        "$base/api/v1/me/timeline" | awk '$1 == "RESULT" {print $2}')
    kill "$pid"; wait "$pid" 2>/dev/null || true
    printf "%-28s /ready %8.1f req/s, timeline API %8.1f req/s: ratio %.2f (%s still queued)\n" "$1" "$ready" \
        "$timeline" "$(python3 -c "print($timeline / $ready)")" "$(sql "SELECT count(*) FROM outbox WHERE status = 'queued'")"
}
sql "UPDATE outbox SET status = 'cancelled' WHERE status <> 'sent'"
ratio "worker idle"
MESSAGES=$((MESSAGES * 3)) queue busy
ratio "worker delivering"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
