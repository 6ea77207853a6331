#!/usr/bin/env bash
# The mobile / server (bearer) flow with HTTPie: no cookies, tokens in JSON.
#
#   (register once) -> login with X-Auth-Mode: bearer -> /users/me
#   -> refresh with the refresh token (it rotates) -> logout
#   -> the rotated-away and the ended tokens are refused
#
# Against `make run` (http://127.0.0.1:8000). Needs `http` (pip install httpie).
# Override with BASE_URL, EMAIL, PASSWORD.
set -euo pipefail

BASE_URL="${BASE_URL:-http://127.0.0.1:8000}"
API="${BASE_URL%/}/api/v1"
EMAIL="${EMAIL:-ada-$(date +%s)-$RANDOM@example.com}"
PASSWORD="${PASSWORD:-correct horse battery staple}"

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

# call EXPECTED_STATUS METHOD PATH [REQUEST_ITEM...] [http options...]: the body
# lands in $BODY. Request items (name=value, Header:value) go before options.
call() {
  local expected="$1" method="$2" path="$3"
  shift 3
  local output status
  output="$(http --ignore-stdin --pretty=none --print=hb "$method" "$API$path" \
    X-Auth-Mode:bearer "$@")"
  status="$(head -n 1 <<<"$output" | cut -d ' ' -f 2)"
  BODY="$(sed '1,/^\r\?$/d' <<<"$output")"
  echo "$method $path -> $status"
  if [[ " $expected " != *" $status "* ]]; then
    echo "expected $expected: $BODY" >&2
    exit 1
  fi
}

echo "== register $EMAIL (an existing account is fine)"
call "201 409" POST /auth/register name='Ada Lovelace' email="$EMAIL" password="$PASSWORD"

echo "== login: X-Auth-Mode: bearer puts the refresh token in the body"
call 200 POST /auth/login email="$EMAIL" password="$PASSWORD"
ACCESS_TOKEN="$(json_get .data.accessToken <<<"$BODY")"
REFRESH_TOKEN="$(json_get .data.refreshToken <<<"$BODY")"
echo "   access ${ACCESS_TOKEN:0:16}..., refresh ${REFRESH_TOKEN:0:16}..."

echo "== who am I"
call 200 GET /users/me -A bearer -a "$ACCESS_TOKEN"
echo "   $(json_get .data.user.email <<<"$BODY")"

echo "== refresh: send the refresh token, keep the new one (the old one is spent)"
OLD_REFRESH_TOKEN="$REFRESH_TOKEN"
call 200 POST /auth/refresh-token -A bearer -a "$REFRESH_TOKEN"
ACCESS_TOKEN="$(json_get .data.accessToken <<<"$BODY")"
REFRESH_TOKEN="$(json_get .data.refreshToken <<<"$BODY")"
call 200 GET /users/me -A bearer -a "$ACCESS_TOKEN"

echo "== logout with the current refresh token"
call 200 POST /auth/logout -A bearer -a "$REFRESH_TOKEN"

echo "== after logout: the access token and the refresh token are refused"
call 401 GET /users/me -A bearer -a "$ACCESS_TOKEN"
echo "   $(json_get .code <<<"$BODY")"
call 401 POST /auth/refresh-token -A bearer -a "$OLD_REFRESH_TOKEN"
echo "   $(json_get .code <<<"$BODY")"
