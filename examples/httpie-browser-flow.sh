#!/usr/bin/env bash
# The browser (cookie) flow with HTTPie: a session file plays the browser's cookie jar.
#
#   register (or log in) -> refresh with X-CSRF-TOKEN read from the session file
#   -> /users/me -> logout (the cookies are cleared; refreshing again is 401)
#
# Against `make run` (http://127.0.0.1:8000; development cookies are not Secure, so
# HTTPie sends them back over plain http). Needs `http` (pip install httpie).
# Override with BASE_URL, EMAIL, PASSWORD.
set -euo pipefail

BASE_URL="${BASE_URL:-http://127.0.0.1:8000}"
API="${BASE_URL%/}/api/v1"
EMAIL="${EMAIL:-ada-$(date +%s)-$RANDOM@example.com}"
PASSWORD="${PASSWORD:-correct horse battery staple}"
SESSION_DIR="$(mktemp -d)"
SESSION="$SESSION_DIR/session.json"
trap 'rm -rf "$SESSION_DIR"' EXIT

# json_get FIELD: one field of the JSON on stdin, e.g. json_get .data.accessToken
json_get() {
  if command -v jq >/dev/null 2>&1; then
    jq -r "$1"
  else
    python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].strip(".").split("."):
    value = value[key]
print(value)' "$1"
  fi
}

# The CSRF value is the readable cookie next to the HttpOnly refresh cookie; HTTPie
# keeps both in the session file (a list of cookies since HTTPie 3.1).
csrf_from_session() {
  python3 -c 'import json, sys
cookies = json.load(open(sys.argv[1]))["cookies"]
print(next(c["value"] for c in cookies if c["name"] == "csrf_refresh_token"))' "$SESSION"
}

# call EXPECTED_STATUS METHOD PATH [REQUEST_ITEM...] [http options...]: the body
# lands in $BODY. Request items (name=value, Header:value) go before options.
call() {
  local expected="$1" method="$2" path="$3"
  shift 3
  local output status
  output="$(http --ignore-stdin --pretty=none --print=hb "$method" "$API$path" "$@")"
  status="$(head -n 1 <<<"$output" | cut -d ' ' -f 2)"
  BODY="$(sed '1,/^\r\?$/d' <<<"$output")"
  echo "$method $path -> $status"
  if [[ " $expected " != *" $status "* ]]; then
    echo "expected $expected: $BODY" >&2
    exit 1
  fi
}

echo "== register $EMAIL (cookie transport is the default)"
call "201 409" POST /auth/register name='Ada Lovelace' email="$EMAIL" \
  password="$PASSWORD" --session="$SESSION"
if [[ "$(json_get .success <<<"$BODY")" != true ]]; then
  echo "== already registered: log in instead"
  call 200 POST /auth/login email="$EMAIL" password="$PASSWORD" --session="$SESSION"
fi
ACCESS_TOKEN="$(json_get .data.accessToken <<<"$BODY")"
echo "   access token ${ACCESS_TOKEN:0:16}... in the body; refresh token only in the session file"

echo "== refresh: the cookie goes by itself, X-CSRF-TOKEN echoes csrf_refresh_token"
call 200 POST /auth/refresh-token "X-CSRF-TOKEN:$(csrf_from_session)" --session="$SESSION"
ACCESS_TOKEN="$(json_get .data.accessToken <<<"$BODY")"

# Without the session: HTTPie would keep the Authorization header in it for later.
echo "== who am I"
call 200 GET /users/me -A bearer -a "$ACCESS_TOKEN"
echo "   $(json_get .data.user.email <<<"$BODY")"

echo "== logout: ends the session and expires both cookies"
CSRF="$(csrf_from_session)"
call 200 POST /auth/logout "X-CSRF-TOKEN:$CSRF" --session="$SESSION"

echo "== refresh after logout is refused (the session is over, whatever the jar kept)"
call 401 POST /auth/refresh-token "X-CSRF-TOKEN:$CSRF" --session="$SESSION"
echo "   $(json_get .code <<<"$BODY")"
