"""The pytest suite run by `make test`."""
