"""One registry type for askrl's named components (reward components, user simulators, eval suites).

A duplicate name raises; an unknown name raises ``UnknownNameError`` listing the known names.

    SUITES = Registry[type]("eval suite")
    @SUITES.register("ask_mind")
    class AskMindSuite: ...
    SUITES.get("ask_mind")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from askrl.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> object map whose lookups fail loudly."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: T) -> None:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {sorted(self._items)}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))
