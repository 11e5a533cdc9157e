"""Fixtures for the paper-session tests: both client libraries."""
import pytest

LIBRARIES = ["ib_insync", "ib_async"]


@pytest.fixture(params=LIBRARIES)
def library(request):
    """Each test against the simulated gateway runs once per client library."""
    return request.param
