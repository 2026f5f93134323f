# Shared by the scripts in this folder: source it, do not run it.
# Needs only bash, curl and jq. Settings, all optional:
#   API_URL        the API's base URL (default http://localhost:8000)
#   TOKEN          a Bearer token to send, or
#   API_USERNAME, API_PASSWORD   credentials to log in with first (POST /auth/token)

set -euo pipefail

API_URL="${API_URL:-http://localhost:8000}"
API_URL="${API_URL%/}"

for tool in curl jq; do
    command -v "$tool" >/dev/null || { echo "$0: needs $tool" >&2; exit 2; }
done

_work="$(mktemp -d)"
trap 'rm -rf "$_work"' EXIT
HEADERS_FILE="$_work/headers"
BODY_FILE="$_work/body"
STATUS=""

# call EXPECTED_STATUS METHOD PATH [curl options...]
# Sends one request, prints it (the token masked) and the response with its status and headers;
# exits non-zero when the status is not EXPECTED_STATUS. Afterwards: $STATUS, body(), header NAME.
call() {
    local expected="$1" method="$2" path="$3"
    shift 3
    local auth=()
    if [[ -n "${TOKEN:-}" ]]; then
        auth=(-H "Authorization: Bearer $TOKEN")
    fi
    echo ">>> $method $API_URL$path"
    [[ -n "${TOKEN:-}" ]] && echo ">>> Authorization: Bearer <token>"
    local previous=""
    for arg in "$@"; do
        case "$previous" in
            -H) echo ">>> $arg" ;;
            --data|--data-raw|-d) echo ">>>"; echo "$arg" | sed 's/^/>>> /' ;;
        esac
        previous="$arg"
    done
    STATUS="$(curl -sS -X "$method" "${auth[@]}" "$@" -D "$HEADERS_FILE" -o "$BODY_FILE" \
        -w '%{http_code}' "$API_URL$path")"
    tr -d '\r' <"$HEADERS_FILE" | sed '/^$/d; s/^/<<< /'
    if [[ -s "$BODY_FILE" ]]; then
        echo "<<<"
        { jq . "$BODY_FILE" 2>/dev/null || cat "$BODY_FILE"; } | sed 's/^/<<< /'
    fi
    echo
    if [[ "$STATUS" != "$expected" ]]; then
        echo "$(basename "$0"): expected status $expected, got $STATUS" >&2
        exit 1
    fi
}

# body [JQ_FILTER]: the last response's body, through jq.
body() { jq -r "${1:-.}" "$BODY_FILE"; }

# header NAME: the value of the last response's header NAME.
header() {
    tr -d '\r' <"$HEADERS_FILE" | awk -v name="$(echo "$1" | tr 'A-Z' 'a-z')" '
        { split($0, kv, ": "); if (tolower(kv[1]) == name) { sub(/^[^:]*: /, ""); print; exit } }'
}

# login: sets TOKEN from API_USERNAME and API_PASSWORD unless TOKEN is already set.
login() {
    if [[ -n "${TOKEN:-}" || -z "${API_USERNAME:-}" ]]; then
        return 0
    fi
    local credentials
    credentials="$(jq -n --arg u "$API_USERNAME" --arg p "${API_PASSWORD:-}" \
        '{username: $u, password: $p}')"
    echo ">>> POST $API_URL/auth/token"
    echo ">>> Content-Type: application/json"
    echo '>>> {"username": "'"$API_USERNAME"'", "password": "<hidden>"}'
    STATUS="$(curl -sS -X POST -H 'Content-Type: application/json' --data-binary @- \
        -D "$HEADERS_FILE" -o "$BODY_FILE" -w '%{http_code}' "$API_URL/auth/token" \
        <<<"$credentials")"
    tr -d '\r' <"$HEADERS_FILE" | sed '/^$/d; s/^/<<< /'
    echo "<<<"
    jq '.access_token |= "<token>"' "$BODY_FILE" 2>/dev/null | sed 's/^/<<< /' || cat "$BODY_FILE"
    echo
    if [[ "$STATUS" != 200 ]]; then
        echo "$(basename "$0"): login as $API_USERNAME failed with status $STATUS" >&2
        exit 1
    fi
    TOKEN="$(body .access_token)"
    export TOKEN
}

# new_value: a valid number unlikely to exist yet, formatted like the agreed example.
new_value() {
    local digits
    digits="$(printf '%09d' "$(( (($(date +%s) % 100000) * 10000 + RANDOM % 10000) % 1000000000 ))")"
    echo "+55 84 9${digits:1:4}-${digits:5:4}"
}

# number_id [ID]: ID when given, else the id of a number created for this script.
number_id() {
    if [[ -n "${1:-}" ]]; then
        echo "$1"
        return
    fi
    local created
    created="$(curl -sS -X POST ${TOKEN:+-H "Authorization: Bearer $TOKEN"} \
        -H 'Content-Type: application/json' \
        --data "{\"value\": \"$(new_value)\", \"monthyPrice\": \"0.03\", \"setupPrice\": \"3.40\", \"currency\": \"U\$\"}" \
        "$API_URL/numbers")"
    echo "$created" | jq -er .id || { echo "could not create a number: $created" >&2; exit 1; }
}
