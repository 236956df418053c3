# Shared by the benchmarks (sourced): the production binary (or BENCH_BIN), a PostgreSQL admin URL, a scratch folder
# removed on exit with any server still running, and a free port.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
# BENCH_BIN names a binary built earlier (e.g. the commit before a change, copied aside), so two
# builds can be measured in one sitting; otherwise the working tree is built.
if [ -n "${BENCH_BIN:-}" ]; then
    BIN="$BENCH_BIN"
else
    cargo build --profile production -q -p clinic-server
    BIN="$CARGO_TARGET_DIR/production/clinic"
fi
# Every run reads the binary from disk: one just built or copied stays in the page cache as written,
# and a server mapping it then had 1.4-2.7 MB more resident file pages than the same binary read
# back (so the peak RSS depended on how fresh the file was: docs/performance.md).
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$BIN"
PG_ADMIN="${BENCH_PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# login BASE_URL EMAIL PASSWORD: a bearer token.
login() {
    curl -fs -H 'Content-Type: application/json' -d "{\"email\":\"$2\",\"password\":\"$3\"}" \
        "$1/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# CPU time in clock ticks (getconf CLK_TCK a second): of the processes named (user + system, summed), of
# all of PostgreSQL's processes, and of the whole machine (user, nice, system, irq, softirq).
ticks() {
    local sum=0 p
    for p in "$@"; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo "$sum"
}
# shellcheck disable=SC2046 # one word per process id
postgres_ticks() { ticks $(pgrep -x postgres || true); }
machine_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
