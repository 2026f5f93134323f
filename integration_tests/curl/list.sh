#!/usr/bin/env bash
# List numbers: a page, sorted and filtered; X-Total-Count and Link carry the pagination.
source "$(dirname "$0")/lib.sh"
login

# The second page of 5, cheapest monthly price first, numbers in U$ or R$ containing the digits 55.
call 200 GET '/numbers?_page=2&_limit=5&_sort=monthyPrice,value&_order=asc,desc&currency=U$&currency=R$&value_like=55'
echo "matching numbers: $(header X-Total-Count)"

# The readable aliases and a price range.
call 200 GET '/numbers?page=1&perPage=3&sort=setupPrice&order=desc&monthyPrice_gte=0.50&monthyPrice_lte=2.00'

# An invalid parameter is a 400 naming it.
call 400 GET '/numbers?_limit=5000'
