"""Pagination on every list: offset and limit in, ``Paged`` out with ``total`` and a ``next`` link."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request

from regard.api.schemas.base import Paged
from regard.domain import Page

T = TypeVar("T")
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Window:
    offset: int
    limit: int
    request: Request

    def next_url(self, shown: int, total: int) -> str | None:
        following = self.offset + shown
        if shown == 0 or following >= total:
            return None
        return str(self.request.url.include_query_params(offset=following, limit=self.limit))

    def page(self, page: Page, convert: Callable[[Any], T]) -> Paged[T]:
        """A service ``Page`` (already cut by the store)."""
        items = [convert(item) for item in page.items]
        return Paged[T](
            items=items,
            total=page.total,
            offset=self.offset,
            limit=self.limit,
            next=self.next_url(len(items), page.total),
        )

    def cut(self, everything: Sequence[Any], convert: Callable[[Any], T]) -> Paged[T]:
        """A whole listing the service returns at once, cut here."""
        chosen = [convert(item) for item in everything[self.offset : self.offset + self.limit]]
        total = len(everything)
        return Paged[T](
            items=chosen, total=total, offset=self.offset, limit=self.limit, next=self.next_url(len(chosen), total)
        )


async def window(
    request: Request,
    offset: Annotated[int, Query(ge=0, le=2**31, description="Index of the first item.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most items per page.")] = 100,
) -> Window:
    return Window(offset, limit, request)


Paging = Annotated[Window, Depends(window)]
