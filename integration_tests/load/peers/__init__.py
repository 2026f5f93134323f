"""BENCHMARK FIXTURES ONLY: what users would pick instead of this product, to measure it against.

Each app is the minimal, idiomatic code a good engineer would write for ``GET /numbers/{id}`` and
``GET /numbers?_page=N&_limit=M`` on the product's migrated database, with the product's JSON and
bearer-token check (see :mod:`.models`). They serve nothing else. Never deploy them.
"""
