#!/usr/bin/env bash
# List numbers: a page, sorted and filtered; X-Total-Count and Link carry the pagination.
source "$(dirname "$0")/lib.sh"
login

# The second page of 5, cheapest monthly price first, numbers in U$ or R$ containing the digits 55.
call 200 GET '/numbers?_page=2&_limit=5&_sort=monthyPrice,value&_order=asc,desc&currency=U$&currency=R$&value_like=55'
echo "matching numbers: $(header X-Total-Count)"

# As react-admin asks: rows 0 to 9 by setup price, descending, with a price range and a search.
call 200 GET '/numbers?_start=0&_end=10&_sort=setupPrice&_order=DESC&monthyPrice_gte=0.50&monthyPrice_lte=2.00&q=u'

# react-admin's getMany: exactly these ids.
call 200 GET '/numbers?id=1&id=2&id=3'

# An invalid parameter is a 400 naming it.
call 400 GET '/numbers?_limit=5000'
