#!/usr/bin/env bash
# Replace a number (ID, or one created here): PUT with every field; 200 with the new ETag.
source "$(dirname "$0")/lib.sh"
login
id="$(number_id "${1:-}")"

call 200 PUT "/numbers/$id" -H 'Content-Type: application/json' \
    --data "{\"value\": \"$(new_value)\", \"monthyPrice\": \"1.20\", \"setupPrice\": \"10.00\", \"currency\": \"R\$\"}"

# A field missing from a replacement is a 422.
call 422 PUT "/numbers/$id" -H 'Content-Type: application/json' --data '{"monthyPrice": "1.20"}'
