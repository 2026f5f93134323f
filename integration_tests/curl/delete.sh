#!/usr/bin/env bash
# Delete a number (ID, or one created here): 200 with the deleted number, then 404 for a second
# delete and for a read. With "Prefer: return=minimal" the answer is 204 without a body.
source "$(dirname "$0")/lib.sh"
login
id="$(number_id "${1:-}")"

call 200 DELETE "/numbers/$id"
call 404 DELETE "/numbers/$id"
call 404 GET "/numbers/$id"
