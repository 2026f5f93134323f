#!/usr/bin/env bash
# Patch a number (ID, or one created here): a JSON merge patch changes only the fields sent.
source "$(dirname "$0")/lib.sh"
login
id="$(number_id "${1:-}")"

call 200 PATCH "/numbers/$id" -H 'Content-Type: application/merge-patch+json' \
    --data '{"monthyPrice": "0.99"}'
call 200 PATCH "/numbers/$id" -H 'Content-Type: application/json' --data '{"setupPrice": 5}'
echo "monthyPrice is now $(body .monthyPrice), setupPrice $(body .setupPrice)"

# null for a required field is a 422.
call 422 PATCH "/numbers/$id" -H 'Content-Type: application/json' --data '{"currency": null}'
