"""The real redis-server of tests/shared_store, for the replica and shutdown scenarios."""

from tests.shared_store.conftest import redis_server  # noqa: F401 (a fixture)
