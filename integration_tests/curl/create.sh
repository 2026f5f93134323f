#!/usr/bin/env bash
# Create a number: 201 with Location and ETag; the same digits again, however formatted, are 409.
source "$(dirname "$0")/lib.sh"
login

value="$(new_value)"
call 201 POST /numbers -H 'Content-Type: application/json' \
    --data "{\"value\": \"$value\", \"monthyPrice\": \"0.03\", \"setupPrice\": \"3.40\", \"currency\": \"U\$\"}"
echo "created $(header Location) with ETag $(header ETag)"

# The frontend mocks' spelling: monthlyPrice, JSON numbers, an id (ignored). Same digits: 409.
call 409 POST /numbers -H 'Content-Type: application/json' \
    --data "{\"id\": 42, \"value\": \"${value//[ -]/}\", \"monthlyPrice\": 0.5, \"setupPrice\": 12, \"currency\": \"USD\"}"

# Every bad field at once: 422 with a pointer to each.
call 422 POST /numbers -H 'Content-Type: application/json' \
    --data '{"value": "84 1234", "monthyPrice": "-1", "setupPrice": "3.999", "currency": "XYZ"}'
