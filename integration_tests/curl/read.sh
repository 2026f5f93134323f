#!/usr/bin/env bash
# Read a number (ID, or one created here): 200 with its ETag; If-None-Match with it is 304.
source "$(dirname "$0")/lib.sh"
login
id="$(number_id "${1:-}")"

call 200 GET "/numbers/$id"
etag="$(header ETag)"
call 304 GET "/numbers/$id" -H "If-None-Match: $etag"
call 404 GET /numbers/2147483647
