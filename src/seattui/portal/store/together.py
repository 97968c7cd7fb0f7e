"""Calls that wait for one step of the store, run in groups: the device activations
(services/activation.py) and the rate counters' counts (store/counters.py).

Every statement is a trip to the database and back through the event loop, which 32 requests
at once keep busy; a write also waits for the store's one write turn. Run one at a time, 32
activations queued 4 ms each for 0.3 ms of SQL, and 32 counts waited in turn for the lock. In
a group, one transaction and one statement serve every call, and each call is still answered
only after its group's transaction ends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Call = TypeVar("Call")
Outcome = TypeVar("Outcome")


class Together(Generic[Call, Outcome]):
    """`await together(call)`: the calls that arrive while a group runs make the next one (at
    most `limit`); `run` answers a group with one outcome per call, in order, an Exception
    among them being raised to its own caller alone (a refusal). If `run` itself fails, every
    call of the group hears the error; the next group tries again."""

    def __init__(self, run: Callable[[list[Call]], Awaitable[list[Outcome | Exception]]], limit: int) -> None:
        self._run = run
        self._limit = limit
        self._waiting: list[tuple[Call, asyncio.Future[Outcome]]] = []
        self._runner: asyncio.Future[None] | None = None

    async def __call__(self, call: Call) -> Outcome:
        answer: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((call, answer))
        self._start()
        return await answer

    async def each(self, calls: list[Call]) -> list[Outcome | Exception]:
        """Several calls at once, in one group as far as they fit: their outcomes in order, an
        Exception (a refusal, or `run`'s own failure) returned in its call's place."""
        if not calls:
            return []
        loop = asyncio.get_running_loop()
        answers: list[asyncio.Future[Outcome]] = [loop.create_future() for _ in calls]
        self._waiting.extend(zip(calls, answers, strict=True))
        self._start()
        try:
            await asyncio.wait(answers)
        except asyncio.CancelledError:  # as a cancelled caller of one: its calls not run, if not yet
            for answer in answers:
                answer.cancel()
            raise
        outcomes: list[Outcome | Exception] = []
        for answer in answers:
            error = answer.exception()  # every answer's read, so none is reported as never retrieved
            if error is not None and not isinstance(error, Exception):
                raise error
            outcomes.append(error if error is not None else answer.result())
        return outcomes

    def _start(self) -> None:
        if self._runner is None or self._runner.done():
            self._runner = asyncio.ensure_future(self._run_waiting())

    async def _run_waiting(self) -> None:
        while self._waiting:
            group = [(call, answer) for call, answer in self._waiting[:self._limit] if not answer.done()]
            del self._waiting[:self._limit]
            if not group:
                continue
            try:
                outcomes = await self._run([call for call, _ in group])
            except BaseException as error:
                for _, answer in group:
                    if not answer.done():
                        answer.set_exception(error)
                if not isinstance(error, Exception):
                    raise
                continue
            for (_, answer), outcome in zip(group, outcomes, strict=True):
                if answer.done():  # its caller was cancelled
                    continue
                if isinstance(outcome, Exception):
                    answer.set_exception(outcome)
                else:
                    answer.set_result(outcome)
