"""Fixtures for the app and HTTP clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.settings import Settings


@pytest.fixture
def app(db: Database, settings: Settings) -> FastAPI:
    """The real application on the test database (both backends)."""
    return create_app(settings, db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous HTTP client."""
    with TestClient(app) as c:
        yield c
