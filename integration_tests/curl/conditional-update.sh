#!/usr/bin/env bash
# Conditional update (ID, or one created here): If-Match with the ETag just read applies the
# change; the same, now stale, ETag is then refused with 412 and changes nothing.
source "$(dirname "$0")/lib.sh"
login
id="$(number_id "${1:-}")"

call 200 GET "/numbers/$id"
etag="$(header ETag)"
call 200 PATCH "/numbers/$id" -H "If-Match: $etag" -H 'Content-Type: application/json' \
    --data '{"monthyPrice": "2.50"}'
echo "ETag went from $etag to $(header ETag)"
call 412 PUT "/numbers/$id" -H "If-Match: $etag" -H 'Content-Type: application/json' \
    --data "{\"value\": \"$(new_value)\", \"monthyPrice\": \"9.99\", \"setupPrice\": \"9.99\", \"currency\": \"EUR\"}"
call 412 DELETE "/numbers/$id" -H "If-Match: $etag"
