#!/usr/bin/env bash
# Every script in order against API_URL; stops at the first unexpected status.
# With API_USERNAME and API_PASSWORD (or TOKEN) set, logs in once and reuses the token.
set -euo pipefail
here="$(dirname "$0")"
source "$here/lib.sh"

if [[ -n "${API_USERNAME:-}" && -z "${TOKEN:-}" ]]; then
    TOKEN="$("$here/login.sh" | tail -1)"
    export TOKEN
fi
for script in list create read replace patch conditional-update delete; do
    echo "=== $script.sh"
    "$here/$script.sh"
done
echo "all.sh: every request got the expected status"
