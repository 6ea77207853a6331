#!/usr/bin/env bash
# The browser (cookie) flow with curl: a cookie jar plays the browser.
#
#   register (or log in) -> refresh with X-CSRF-TOKEN read from the jar -> /users/me
#   -> logout (the cookies are cleared; refreshing again is 401)
#
# Against `make run` (http://127.0.0.1:8000; development cookies are not Secure, so
# curl sends them back over plain http). Override with BASE_URL, EMAIL, PASSWORD.
set -euo pipefail

BASE_URL="${BASE_URL:-http://127.0.0.1:8000}"
API="${BASE_URL%/}/api/v1"
EMAIL="${EMAIL:-ada-$(date +%s)-$RANDOM@example.com}"
PASSWORD="${PASSWORD:-correct horse battery staple}"
JAR="$(mktemp)"
BODY_FILE="$(mktemp)"
trap 'rm -f "$JAR" "$BODY_FILE"' EXIT

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

# json_object KEY VALUE...: a JSON object of strings, safely quoted.
json_object() {
  python3 -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@"
}

# The CSRF value is the readable cookie next to the HttpOnly refresh cookie.
csrf_from_jar() {
  awk '$6 == "csrf_refresh_token" { value = $7 } END { print value }' "$JAR"
}

# call EXPECTED_STATUS METHOD PATH [curl options...]: the body lands in $BODY.
call() {
  local expected="$1" method="$2" path="$3"
  shift 3
  local status
  status="$(curl -sS -o "$BODY_FILE" -w '%{http_code}' -X "$method" \
    -b "$JAR" -c "$JAR" "$@" "$API$path")"
  BODY="$(cat "$BODY_FILE")"
  echo "$method $path -> $status"
  if [[ " $expected " != *" $status "* ]]; then
    echo "expected $expected: $BODY" >&2
    exit 1
  fi
}

echo "== register $EMAIL (cookie transport is the default)"
REGISTER="$(json_object name 'Ada Lovelace' email "$EMAIL" password "$PASSWORD")"
LOGIN="$(json_object email "$EMAIL" password "$PASSWORD")"
call "201 409" POST /auth/register -H 'Content-Type: application/json' -d "$REGISTER"
if [[ "$(json_get .success <<<"$BODY")" != true ]]; then
  echo "== already registered: log in instead"
  call 200 POST /auth/login -H 'Content-Type: application/json' -d "$LOGIN"
fi
ACCESS_TOKEN="$(json_get .data.accessToken <<<"$BODY")"
echo "   access token ${ACCESS_TOKEN:0:16}... in the body; refresh token only in the jar"

echo "== refresh: the cookie goes by itself, X-CSRF-TOKEN echoes csrf_refresh_token"
call 200 POST /auth/refresh-token -H "X-CSRF-TOKEN: $(csrf_from_jar)"
ACCESS_TOKEN="$(json_get .data.accessToken <<<"$BODY")"

echo "== who am I"
call 200 GET /users/me -H "Authorization: Bearer $ACCESS_TOKEN"
echo "   $(json_get .data.user.email <<<"$BODY")"

echo "== logout: ends the session and expires both cookies"
CSRF="$(csrf_from_jar)"
call 200 POST /auth/logout -H "X-CSRF-TOKEN: $CSRF"

echo "== refresh after logout is refused (the session is over, whatever the jar kept)"
call 401 POST /auth/refresh-token -H "X-CSRF-TOKEN: $CSRF"
echo "   $(json_get .code <<<"$BODY")"
