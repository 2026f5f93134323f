# Task runner. `make lock` after any change to the dependencies in pyproject.toml.

UV ?= uv
# One resolution for every Python the image may run (3.11 in CI's stand-in, 3.12 in the
# official python:3.12-slim), against PyPI only, with every file's hash.
COMPILE = $(UV) pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--quiet --custom-compile-command "make lock"

.PHONY: lock check-lock

# requirements/production.txt: what the api image installs (runtime + the production extra);
# requirements/test.txt: what the integration-tests image adds (the test extra), at the same
# versions for the packages both share. Versions already pinned stay unless pyproject.toml
# excludes them; `make lock UPGRADE=--upgrade` moves everything to the newest allowed.
lock:
	$(COMPILE) $(UPGRADE) --extra production -o requirements/production.txt
	$(COMPILE) $(UPGRADE) --extra production --extra test -c requirements/production.txt \
		-o requirements/test.txt

# CI: the committed lock files are what `make lock` makes of pyproject.toml.
check-lock: lock
	@git diff --exit-code -- requirements/ \
		|| { echo "requirements/ does not match pyproject.toml: run make lock, commit it" >&2; exit 1; }
