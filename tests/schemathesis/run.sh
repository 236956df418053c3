#!/usr/bin/env bash
# Property-based API testing with schemathesis against the served OpenAPI document: a demo clinic on
# SQLite, signed in as a provider, then as a manager. Fails on any 5xx or any response that does not
# match the schema. Run by .ci/run; by hand: bash tests/schemathesis/run.sh [examples per operation]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
EXAMPLES="${1:-${SCHEMATHESIS_EXAMPLES:-50}}"
VERSION=4.32.5
st() { python3 -m schemathesis.cli "$@"; }  # no reliance on a console script being on PATH
if [ "$(st --version 2>/dev/null | awk '{print $NF}')" != "$VERSION" ]; then
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "schemathesis==$VERSION"
fi
cargo build -q --locked -p clinic-server
BIN="$CARGO_TARGET_DIR/debug/clinic"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export DATABASE_URL="$work/schemathesis.db"
logins=$("$BIN" demo)
password_of() { echo "$logins" | awk -v e="$1" '$2 == e {print $3}'; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
RUST_LOG=error "$BIN" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
for _ in $(seq 1 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.1; done

token_of() {
    curl -fs -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$(password_of "$1")\"}" \
        "$base/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

status=0
for who in chen@demo.clinic.example manager@demo.clinic.example; do
    echo "schemathesis: signed in as $who, $EXAMPLES examples per operation"
    # Signing out or changing the password would end the session the run is signed in with.
    (cd "$work" && st run "$base/api/v1/openapi.json" \
        --header "Authorization: Bearer $(token_of "$who")" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
        --exclude-path /api/v1/auth/logout --exclude-path /api/v1/auth/password \
        --max-examples "$EXAMPLES" --seed 20261125 --workers 2 --no-color) \
        || status=1
done
if grep -q 'panicked' "$work/serve.log"; then
    echo "schemathesis: the server panicked:"; grep -A3 panicked "$work/serve.log"; status=1
fi
exit $status
