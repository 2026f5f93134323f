#!/usr/bin/env bash
# Log in: trade API_USERNAME and API_PASSWORD for a Bearer token (POST /auth/token).
# Prints the exchange (token masked), then the token, so that: export TOKEN=$(./login.sh | tail -1)
source "$(dirname "$0")/lib.sh"
: "${API_USERNAME:?set API_USERNAME and API_PASSWORD}"
unset TOKEN
login >&2
echo "$TOKEN"
