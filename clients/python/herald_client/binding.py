"""How one operation becomes a method of both clients.

An operation is a function returning a `Call` (herald_client/operations). `operation(f)` on a
client class is a descriptor: read from a `Herald`, it is a method that runs the call and
returns its result; from an `AsyncHerald`, one that returns a coroutine of it. The overloads
of `__get__` tell the type checker which, so each method is written once, with its signature
and docstring, and typed right in both clients.
"""

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Generic, ParamSpec, TypeVar, overload

from herald_client.calls import Call

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("herald_client")


class SyncRunner:
    """A client that runs a call and returns its result (`Herald`)."""

    def _run(self, call: Call[T]) -> T:
        raise NotImplementedError


class AsyncRunner:
    """A client that runs a call in a coroutine (`AsyncHerald`)."""

    async def _run(self, call: Call[T]) -> T:
        raise NotImplementedError


class Deferrer:
    """A client that keeps a call in its outbox to send later (both clients)."""

    def _defer(self, call: Call[Any]) -> str | None:
        raise NotImplementedError

    def _count_refused(self) -> None:
        raise NotImplementedError


class operation(Generic[P, T]):
    """A strict method: the result, or a typed error (herald_client.errors)."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> "operation[P, T]": ...
    @overload
    def __get__(self, instance: SyncRunner, owner: type | None = None) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, instance: AsyncRunner, owner: type | None = None
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        build = self.build

        @functools.wraps(build)
        def method(*args: Any, **kwargs: Any) -> Any:
            return instance._run(build(*args, **kwargs))

        return method


class deferred(Generic[P]):
    """A never-raising method: the call goes to the client's local outbox, sent in the
    background until Herald accepts it (or refuses it for good). Returns the call's key (the
    Idempotency-Key or event id), or None when even that failed (logged and counted)."""

    def __init__(self, build: Callable[P, Call[Any]]) -> None:
        self.build = build
        self.__doc__ = f"Deferred, never raising: {build.__doc__ or ''}"

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> "deferred[P]": ...
    @overload
    def __get__(self, instance: Deferrer, owner: type | None = None) -> Callable[P, str | None]: ...
    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        build, deferrer = self.build, instance
        assert isinstance(deferrer, Deferrer)

        @functools.wraps(build)
        def method(*args: Any, **kwargs: Any) -> str | None:
            try:
                call = build(*args, **kwargs)
            except Exception:
                # The caller's own arguments do not make a request: a bug of theirs, but not
                # one that may break their checkout. Logged with the traceback, counted.
                log.exception("herald_client: %s could not build its request", build.__name__)
                deferrer._count_refused()
                return None
            return deferrer._defer(call)

        return method
