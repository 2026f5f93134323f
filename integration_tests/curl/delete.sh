#!/usr/bin/env bash
# Delete a number (ID, or one created here): 204, then 404 for a second delete and for a read.
source "$(dirname "$0")/lib.sh"
login
id="$(number_id "${1:-}")"

call 204 DELETE "/numbers/$id"
call 404 DELETE "/numbers/$id"
call 404 GET "/numbers/$id"
