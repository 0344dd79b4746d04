"""Offset pagination with a total count, and free-text search, for every list endpoint."""

from __future__ import annotations

from math import ceil
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class PageParams(BaseModel):
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    q: str | None = Field(default=None, max_length=200)

    @classmethod
    async def from_query(
        cls,
        page: Annotated[int, Query(ge=1, description="1-based page number")] = 1,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page")] = 50,
        q: Annotated[str | None, Query(max_length=200, description="free-text search")] = None,
    ) -> PageParams:
        # async although it awaits nothing: FastAPI runs a plain function dependency in its thread
        # pool, a hop that costs more than the whole page's parameters are worth.
        return cls(page=page, page_size=page_size, q=(q or "").strip() or None)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.page_size))


def known_total(params: PageParams, rows_on_page: int) -> int | None:
    """The total row count when the page itself tells it, else None.

    A page shorter than ``page_size`` is the last one, so the total is its offset plus its rows;
    only a short page that is empty and not the first leaves the total unknown.
    """
    if rows_on_page < params.page_size and (rows_on_page or params.page == 1):
        return params.offset + rows_on_page
    return None


def paginate_rows(session: Session, stmt: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """Run ``stmt`` for one page; returns the ORM rows and the total row count.

    The count query runs only when the page does not tell the total (see :func:`known_total`).
    """
    rows = list(session.scalars(stmt.limit(params.page_size).offset(params.offset)))
    total = known_total(params, len(rows))
    if total is None:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return rows, int(total)
