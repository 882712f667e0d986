"""SteadyRateLimiter: on a virtual clock, then with a real ExtBot against the fake's limits."""

from __future__ import annotations

import asyncio
import datetime as dtm
import itertools
import logging
import selectors
import time
from collections.abc import Callable, Coroutine
from contextlib import nullcontext
from typing import Any, TypeVar

import aiohttp
import pytest
from telegram.error import BadRequest, RetryAfter
from telegram.ext import ExtBot

from bot.channels.telegram.rate_limit import (
    REPLY_BURST,
    START_WAIT_SECONDS,
    SteadyRateLimiter,
    is_message_send,
    replies,
    replying,
)
from bot.channels.telegram.request import AiohttpRequest
from tests.support.fake_telegram import FakeBotApi, SendLimits

T = TypeVar("T")

# --- a virtual clock: an event loop that jumps to its next timer instead of waiting ---------


class _VirtualSelector(selectors.SelectSelector):
    """Never blocks: select() moves the virtual clock forward by the timeout it is given."""

    def __init__(self) -> None:
        """Start the clock at zero."""
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """Advance to the loop's next timer; with none, every task waits forever."""
        if timeout is None:
            raise RuntimeError("deadlock: every task is waiting and no timer is set")
        self.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time: asyncio.sleep(5) returns at once, 5 s later."""

    def __init__(self) -> None:
        """Use the virtual selector, whose clock is this loop's time()."""
        self._virtual = _VirtualSelector()
        super().__init__(self._virtual)

    def time(self) -> float:
        """The virtual clock."""
        return self._virtual.now


def run_virtual(main: Callable[[VirtualTimeLoop], Coroutine[Any, Any, T]]) -> T:
    """Run main(loop) to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main(loop))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class Api:
    """Stands in for PTB's request callback: records when each request starts."""

    def __init__(
        self,
        loop: VirtualTimeLoop,
        limiter: SteadyRateLimiter,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Record on `clock`, by default the loop's."""
        self.clock = clock or loop.time
        self.limiter = limiter
        self.starts: list[tuple[float, str]] = []
        # Exceptions to raise, in turn, from the next calls with a label.
        self.failures: dict[str, list[Exception]] = {}

    async def call(
        self,
        label: str,
        endpoint: str = "sendMessage",
        chat_id: int | None = None,
        *,
        duration: float = 0.0,
        rate_limit_args: int | None = None,
        reply: bool = False,
    ) -> bool:
        """Make one request through the limiter; `duration` is how long the server takes."""

        async def callback() -> bool:
            self.starts.append((self.clock(), label))
            if duration:
                await asyncio.sleep(duration)
            failures = self.failures.get(label)
            if failures:
                raise failures.pop(0)
            return True

        data: dict[str, Any] = {"text": f"geheime tekst {label}"}
        if chat_id is not None:
            data["chat_id"] = chat_id
        with replying() if reply else nullcontext():
            return bool(
                await self.limiter.process_request(
                    callback, (), {}, endpoint, data, rate_limit_args=rate_limit_args
                )
            )

    def times(self, label: str | None = None) -> list[float]:
        """Start times, of one label or of all, rounded against float noise."""
        return [round(at, 6) for at, name in self.starts if label is None or name == label]

    def timeline(self) -> list[tuple[float, str]]:
        """(start time, label) of every request, times rounded against float noise."""
        return [(round(at, 6), name) for at, name in self.starts]

    def labels(self) -> list[str]:
        """Labels in the order their requests started."""
        return [name for _, name in self.starts]


def limiter_on(loop: VirtualTimeLoop, rate: float, **options: Any) -> SteadyRateLimiter:
    """A limiter on the loop's virtual clock."""
    return SteadyRateLimiter(rate, clock=loop.time, sleep=asyncio.sleep, **options)


def most_in_one_second(times: list[float]) -> int:
    """The most starts in any window [t, t + 1)."""
    return max(sum(1 for other in times if start <= other < start + 1.0) for start in times)


def retry_after(seconds: int) -> RetryAfter:
    """The error PTB raises for Telegram's 429."""
    return RetryAfter(dtm.timedelta(seconds=seconds))


def test_chat_requests_start_one_interval_apart_in_arrival_order() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=5))
        calls = [
            api.call("send-1", chat_id=1),
            api.call("edit-1", "editMessageText", chat_id=1),
            api.call("send-2", chat_id=2),
            api.call("typing-3", "sendChatAction", chat_id=3),
            *(api.call(f"send-{n}", chat_id=n) for n in range(4, 12)),
        ]
        assert all(await asyncio.gather(*calls))
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    assert api.labels() == [
        "send-1",
        "edit-1",
        "send-2",
        "typing-3",
        *(f"send-{n}" for n in range(4, 12)),
    ]
    assert api.times() == [round(n * 0.2, 6) for n in range(12)]
    assert most_in_one_second(api.times()) == 5


def test_the_schedule_never_catches_up_after_a_quiet_spell() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=10))
        await api.call("first", chat_id=1)
        await asyncio.sleep(0.05)
        await api.call("soon-after", chat_id=2)  # arrives 0.05 s after a start: waits 0.05 s
        await asyncio.sleep(5)
        await asyncio.gather(*(api.call(f"late-{n}", chat_id=10 + n) for n in range(3)))
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    assert api.times() == [0.0, 0.1, 5.1, 5.2, 5.3]


def starts_around_a_stall(rate: float, stall: float, requests: int) -> list[float]:
    """Start times of requests to distinct chats, queued at 0, when the process stalls for
    `stall` seconds (time passes, the event loop does not run) right after the first start."""
    stalled = 0.0

    async def main(loop: VirtualTimeLoop) -> Api:
        def clock() -> float:
            return loop.time() + stalled

        limiter = SteadyRateLimiter(rate, clock=clock, sleep=asyncio.sleep)
        api = Api(loop, limiter, clock)
        tasks = [asyncio.ensure_future(api.call(f"m{n}", chat_id=n)) for n in range(requests)]
        await tasks[0]
        nonlocal stalled
        stalled = stall
        await asyncio.gather(*tasks)
        await limiter.shutdown()
        return api

    return run_virtual(main).times()


def test_a_stall_restarts_the_schedule_from_now() -> None:
    times = starts_around_a_stall(rate=10, stall=1.0, requests=5)

    # The second was due at 0.1 and starts at 1.1; the next slot is max(now, 0.1 + 0.1), so the
    # third follows at once and then the spacing holds: no burst of all that fell due meanwhile.
    assert times == [0.0, 1.1, 1.1, 1.2, 1.3]


def test_after_a_stall_no_second_holds_more_than_rate_starts() -> None:
    times = starts_around_a_stall(rate=2, stall=0.6, requests=5)

    # By the slots alone the fourth would start at 1.6, a third start within a second of 1.1.
    assert times == [0.0, 1.1, 1.1, 2.1, 2.6]
    assert most_in_one_second(times) == 2


def test_a_fractional_rate_allows_its_whole_part_in_any_second() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=2.5))
        await asyncio.gather(*(api.call(f"m{n}", chat_id=n) for n in range(7)))
        await api.limiter.shutdown()
        return api

    times = run_virtual(main).times()

    # Slots every 0.4 s, but never a third start within one second.
    assert times == [0.0, 0.4, 1.0, 1.4, 2.0, 2.4, 3.0]
    assert most_in_one_second(times) == 2


def test_with_the_write_hooks_a_request_not_yet_written_holds_the_next_at_most_briefly() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        limiter = limiter_on(loop, rate=10)
        limiter.trace_config()  # sends now count from their write, which never comes here
        api = Api(loop, limiter)
        # The first takes 2 s and is never reported written (opening a connection, say); the
        # second ends at once without a write reported (refused before sending).
        first = asyncio.ensure_future(api.call("slow", chat_id=1, duration=2.0))
        await asyncio.gather(*(api.call(f"m{n}", chat_id=10 + n) for n in range(3)))
        await first
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    wait = START_WAIT_SECONDS
    assert api.timeline() == [(0.0, "slow"), (wait, "m0"), (wait + 0.1, "m1"), (wait + 0.2, "m2")]


def test_a_chat_gets_a_burst_then_one_send_per_second_without_holding_up_others() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=100, per_chat_burst=3, per_chat_per_second=1))
        calls = [api.call(f"chat1-{n}", chat_id=1) for n in range(1, 7)]
        calls.append(api.call("chat2", chat_id=2))
        calls.append(api.call("chat1-edit", "editMessageText", chat_id=1))
        await asyncio.gather(*calls)
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    burst = [(0.0, "chat1-1"), (0.01, "chat1-2"), (0.02, "chat1-3")]
    not_held_up = [(0.03, "chat2"), (0.04, "chat1-edit")]
    then_one_per_second = [(1.0, "chat1-4"), (2.0, "chat1-5"), (3.0, "chat1-6")]
    assert api.timeline() == burst + not_held_up + then_one_per_second


def conversation_starts(
    pause: float, turns: int, **options: Any
) -> tuple[list[float], list[float], int]:
    """A person who answers `pause` s after each reply, one reply per turn, on a limiter at
    29/s: when each message came, when its reply started, and how often a reply was held."""

    async def main(loop: VirtualTimeLoop) -> tuple[list[float], list[float], int]:
        limiter = limiter_on(loop, rate=29, **options)
        api = Api(loop, limiter)
        asked: list[float] = []
        for turn in range(turns):
            await asyncio.sleep(pause)
            asked.append(loop.time())
            await api.call(f"reply-{turn}", chat_id=7, reply=True)
        await limiter.shutdown()
        return asked, api.times(), limiter.replies_held_for_chat

    return run_virtual(main)


@pytest.mark.parametrize("pause", [0.0, 0.3, 1.0])
def test_a_conversation_of_ten_quick_turns_has_no_reply_held_back(pause: float) -> None:
    asked, started, held = conversation_starts(pause, turns=10)
    assert held == 0
    # Each reply starts the moment its message came: no chat's second, no overall slot.
    assert started == [round(at, 6) for at in asked]


@pytest.mark.parametrize("pause", [0.0, 0.01, 1.0])
def test_a_reply_does_not_wait_for_the_slot_of_the_request_before_it(pause: float) -> None:
    """After a button press the gateway answers and then removes the buttons: that edit must
    not make the person's next answer wait for the overall spacing (1/29 s), which is what
    the benchmark's quick person met after every press."""

    async def main(loop: VirtualTimeLoop) -> tuple[list[float], Api]:
        api = Api(loop, limiter_on(loop, rate=29))
        asked: list[float] = []
        for turn in range(10):
            await asyncio.sleep(pause)
            asked.append(round(loop.time(), 6))
            await api.call(f"reply-{turn}", chat_id=7, reply=True)
            await api.call(f"tidy-{turn}", "editMessageReplyMarkup", chat_id=7, reply=True)
        await api.limiter.shutdown()
        return asked, api

    asked, api = run_virtual(main)

    assert [api.times(f"reply-{turn}")[0] for turn in range(10)] == asked
    assert most_in_one_second(api.times()) <= 29


def test_a_proactive_request_keeps_the_spacing_after_a_reply_that_went_early() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=10))
        await api.call("reply", chat_id=1, reply=True)
        await asyncio.gather(api.call("nudge-1", chat_id=2), api.call("nudge-2", chat_id=3))
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    assert api.timeline() == [(0.0, "reply"), (0.1, "nudge-1"), (0.2, "nudge-2")]


def test_the_old_pacing_would_have_held_those_replies() -> None:
    # What the benchmark caught: replies paced like nudges wait from the fourth turn on.
    asked, started, held = conversation_starts(0.3, turns=10, reply_burst=3)
    assert held > 0
    assert started[3] > asked[3]


def test_replies_beyond_the_burst_keep_one_per_second() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=1000))
        sends = REPLY_BURST + 3
        await asyncio.gather(*(api.call(f"r{n}", chat_id=1, reply=True) for n in range(sends)))
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    extra = api.times()[REPLY_BURST:]
    assert extra == [1.0, 2.0, 3.0]
    assert api.times()[REPLY_BURST - 1] < 0.1


def reply_amid(rate: float, proactive: list[int], at: float, **options: Any) -> Api:
    """Proactive sends to the chats `proactive` (labelled by their chat's index) queued at 0,
    and a reply to chat 1 at `at` seconds."""

    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=rate, **options))
        queued = [
            asyncio.ensure_future(api.call(f"proactive-{n}", chat_id=chat))
            for n, chat in enumerate(proactive)
        ]
        await asyncio.sleep(at)
        await api.call("reply", chat_id=1, reply=True)
        await asyncio.gather(*queued)
        await api.limiter.shutdown()
        return api

    return run_virtual(main)


def test_a_reply_goes_before_a_backlog_of_proactive_messages() -> None:
    api = reply_amid(10, proactive=list(range(100, 130)), at=0.05)
    # The next free slot, not the end of the three-second backlog.
    assert api.times("reply") == [0.1]
    assert api.labels()[:3] == ["proactive-0", "reply", "proactive-1"]
    assert most_in_one_second(api.times()) == 10


def test_a_reply_overtakes_a_proactive_message_waiting_in_its_own_chat() -> None:
    api = reply_amid(100, proactive=[1, 1, 1, 1], at=0.1, per_chat_burst=3)
    assert api.timeline() == [
        (0.0, "proactive-0"),
        (0.01, "proactive-1"),
        (0.02, "proactive-2"),
        (0.1, "reply"),
        (2.0, "proactive-3"),  # the reply took the token this one would have had at 1.0
    ]


def test_proactive_messages_after_a_quick_exchange_wait_for_the_chat_to_calm_down() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=100, per_chat_burst=3))
        await asyncio.gather(*(api.call(f"reply-{n}", chat_id=1, reply=True) for n in range(6)))
        await api.call("nudge", chat_id=1)
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    # Six sends booked the bucket six seconds ahead; a nudge may be at most two ahead.
    assert api.times("nudge") == [pytest.approx(4.0, abs=0.06)]
    assert api.limiter.held_for_chat == 1


def test_handlers_wrapped_as_replies_mark_their_requests_and_tasks_they_start() -> None:
    seen: list[bool] = []

    async def probe() -> None:
        from bot.channels.telegram import rate_limit

        seen.append(rate_limit._REPLYING.get())

    @replies
    async def handler() -> None:
        await probe()
        await asyncio.ensure_future(probe())

    async def main() -> None:
        await handler()
        await probe()

    asyncio.run(main())
    assert seen == [True, True, False]


def test_a_reply_burst_below_the_proactive_burst_is_refused() -> None:
    with pytest.raises(ValueError):
        SteadyRateLimiter(29, per_chat_burst=3, reply_burst=2)


def test_edits_deletes_and_chat_actions_are_paced_overall_only() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=100, per_chat_burst=1, per_chat_per_second=1))
        endpoints = ["editMessageText", "sendChatAction", "deleteMessage", "editMessageText"]
        await asyncio.gather(*(api.call(name, name, chat_id=1) for name in endpoints))
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    assert api.times() == [0.0, 0.01, 0.02, 0.03]
    assert [is_message_send(name) for name in ("sendMessage", "sendDocument", "copyMessage")] == [
        True,
        True,
        True,
    ]
    assert [is_message_send(name) for name in ("sendChatAction", "editMessageText", "getMe")] == [
        False,
        False,
        False,
    ]


def test_requests_without_a_chat_are_not_delayed_even_during_a_pause() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=1))
        api.failures["send-0"] = [retry_after(5)]
        sends = [asyncio.ensure_future(api.call(f"send-{n}", chat_id=n)) for n in range(3)]
        await asyncio.sleep(0.5)  # send-0 started and was refused: the pause runs to 5.0
        assert await api.call("getMe", "getMe")
        assert await api.call("answer", "answerCallbackQuery")
        await asyncio.gather(*sends)
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    unpaced = [(0.5, "getMe"), (0.5, "answer")]
    after_pause = [(5.0, "send-0"), (6.0, "send-1"), (7.0, "send-2")]
    assert api.timeline() == [(0.0, "send-0"), *unpaced, *after_pause]


def test_retry_after_pauses_everyone_warns_once_and_retries_first(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main(loop: VirtualTimeLoop) -> tuple[Api, list[bool]]:
        api = Api(loop, limiter_on(loop, rate=10))
        api.failures = {"a": [retry_after(2)], "b": [retry_after(2)]}
        calls = [
            asyncio.ensure_future(api.call(label, chat_id=n, duration=0.5))
            for n, label in enumerate("abcd")
        ]
        # e and f arrive during the pause; f is a's chat's next send.
        await asyncio.sleep(1)
        later = [api.call("e", chat_id=10, duration=0.5), api.call("f", chat_id=0)]
        results = await asyncio.gather(*calls, *later)
        await api.limiter.shutdown()
        return api, results

    with caplog.at_level(logging.DEBUG, logger="bot.channels.telegram.rate_limit"):
        api, results = run_virtual(main)

    assert results == [True] * 6
    # a is refused at 0.5 (pause to 2.5), b at 0.6 (pause to 2.6); c and d had started.
    before_pause = [(0.0, "a"), (0.1, "b"), (0.2, "c"), (0.3, "d")]
    after_pause = [(2.6, "a"), (2.7, "b"), (2.8, "e"), (2.9, "f")]
    assert api.timeline() == before_pause + after_pause
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "sendMessage" in warnings[0].getMessage()
    assert "geheime" not in caplog.text


def test_a_retried_send_keeps_its_place_in_its_chat() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=10, per_chat_burst=3))
        api.failures["first"] = [retry_after(1)]
        await asyncio.gather(*(api.call(label, chat_id=7) for label in ("first", "second")))
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    assert api.labels() == ["first", "first", "second"]
    assert api.times() == [0.0, 1.0, 1.1]


def test_beyond_max_retries_the_retry_after_propagates() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=10, max_retries=2))
        api.failures = {
            "paced": [retry_after(1) for _ in range(3)],
            "unpaced": [retry_after(1) for _ in range(3)],
            "no-retries": [retry_after(1)],
        }
        for call in (
            api.call("paced", chat_id=1),
            api.call("unpaced", "getMe"),
            api.call("no-retries", chat_id=2, rate_limit_args=0),
        ):
            with pytest.raises(RetryAfter) as excinfo:
                await call
            assert excinfo.value.retry_after == dtm.timedelta(seconds=1)
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    assert api.times("paced") == [0.0, 1.0, 2.0]
    # Giving up still leaves the pause in place for the others (to 3.0, then to 5.0); an
    # unpaced request is not held by it but waits out its own retry_after.
    assert api.times("unpaced") == [2.0, 3.0, 4.0]
    assert api.times("no-retries") == [5.0]


def test_other_errors_propagate_untouched_without_a_pause() -> None:
    refused = BadRequest("Chat not found")

    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=10))
        api.failures["bad"] = [refused]
        with pytest.raises(BadRequest) as excinfo:
            await api.call("bad", chat_id=1)
        assert excinfo.value is refused
        await api.call("next", chat_id=2)
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    assert api.timeline() == [(0.0, "bad"), (0.1, "next")]


def test_a_cancelled_request_gives_up_its_turn() -> None:
    async def main(loop: VirtualTimeLoop) -> Api:
        api = Api(loop, limiter_on(loop, rate=1, per_chat_burst=1))
        tasks = {
            label: asyncio.ensure_future(api.call(label, chat_id=chat))
            for label, chat in (("a", 1), ("b", 2), ("c", 3), ("a-again", 1), ("a-more", 1))
        }
        await asyncio.sleep(0.5)
        tasks["b"].cancel()
        tasks["a-again"].cancel()
        results = await asyncio.gather(*tasks.values(), return_exceptions=True)
        assert [type(result) for result in results] == [
            bool,
            asyncio.CancelledError,
            bool,
            asyncio.CancelledError,
            bool,
        ]
        await api.limiter.shutdown()
        return api

    api = run_virtual(main)

    assert api.timeline() == [(0.0, "a"), (1.0, "c"), (2.0, "a-more")]


def test_memory_stays_bounded_over_100000_chats() -> None:
    rate = 1000.0

    async def main(loop: VirtualTimeLoop) -> tuple[int, int]:
        api = Api(loop, limiter_on(loop, rate=rate))
        api.starts = []
        most = 0
        for batch in range(1000):
            chats = range(batch * 100, (batch + 1) * 100)
            await asyncio.gather(*(api.call("nudge", chat_id=chat) for chat in chats))
            most = max(most, api.limiter.tracked_chats)
        await api.limiter.shutdown()
        return most, len(api.starts)

    most, started = run_virtual(main)

    assert started == 100_000
    # Chats whose bucket is full again are dropped: about one second's worth stay, not all.
    assert 0 < most <= 3 * rate


def test_shutdown_cancels_requests_still_waiting() -> None:
    async def main(loop: VirtualTimeLoop) -> list[object]:
        api = Api(loop, limiter_on(loop, rate=1))
        tasks = [asyncio.ensure_future(api.call(f"m{n}", chat_id=n)) for n in range(3)]
        await asyncio.sleep(0.5)
        await api.limiter.shutdown()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    results = run_virtual(main)

    assert results[0] is True
    assert [type(result) for result in results[1:]] == [asyncio.CancelledError] * 2


# --- a real ExtBot against the fake Bot API server enforcing Telegram's limits --------------


async def test_a_paced_bot_gets_no_429_and_sends_each_message_once() -> None:
    # Telegram's own limits. A higher rate would be quicker, but on a busy two-core machine
    # (client and server share one process) a late event loop then costs more than 5 %.
    limits = SendLimits(overall_per_second=30, per_chat_per_second=1.0, per_chat_burst=1)
    chats = list(range(1000, 1100))
    with FakeBotApi(limits=limits) as fake:
        limiter = SteadyRateLimiter(rate=0.97 * limits.overall_per_second)
        async with ExtBot(fake.token, base_url=fake.base_url, rate_limiter=limiter) as bot:
            sent = await asyncio.wait_for(
                asyncio.gather(*(bot.send_message(chat, f"Hoi {chat}") for chat in chats)), 60
            )
        stats = fake.send_stats()
        per_chat = fake.delivered_per_chat()

    assert [message.chat.id for message in sent] == chats
    assert stats.too_many_requests == 0
    assert stats.count == len(chats) and stats.duplicates == 0
    assert per_chat == dict.fromkeys(chats, 1)
    # Never faster than the limit (how close it comes is the benchmark's figure, bench/nudges.py:
    # a busy machine makes it slower, never a wrong answer).
    assert stats.rate is not None and stats.rate <= limits.overall_per_second


async def test_a_stall_before_a_request_is_written_does_not_bunch_the_next_ones() -> None:
    """The event loop stalls after a send was let go and before it is written: counted from
    its release, it would reach the server just before those let go after the stall, with
    the next nine less than a second behind it (eleven in one second at this limit)."""
    limits = SendLimits(overall_per_second=10, per_chat_per_second=1.0, per_chat_burst=1)
    chats = list(range(2000, 2016))
    sends = itertools.count(1)

    async def stall_the_third(session: object, context: object, params: Any) -> None:
        if params.url.path.endswith("/sendMessage") and next(sends) == 3:
            time.sleep(0.3)  # noqa: ASYNC251 (blocks the loop, as a long garbage collection would)

    stall = aiohttp.TraceConfig()
    stall.on_request_start.append(stall_the_third)
    with FakeBotApi(limits=limits) as fake:
        limiter = SteadyRateLimiter(rate=0.97 * limits.overall_per_second)
        request = AiohttpRequest(trace_configs=[stall, limiter.trace_config()])
        async with ExtBot(
            fake.token, base_url=fake.base_url, rate_limiter=limiter, request=request
        ) as bot:
            sent = await asyncio.wait_for(
                asyncio.gather(*(bot.send_message(chat, f"Hoi {chat}") for chat in chats)), 60
            )
        stats = fake.send_stats()
        arrivals = [call.at for call in fake.calls_to("sendMessage")]

    assert next(sends) > 3  # the stall happened
    assert [message.chat.id for message in sent] == chats
    assert stats.too_many_requests == 0
    assert stats.count == len(chats) and stats.duplicates == 0
    assert max(sum(1 for at in arrivals if start <= at < start + 1.0) for start in arrivals) <= 10


async def test_a_429_from_the_server_is_waited_out_and_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FakeBotApi() as fake:
        fake.fail_next(
            "sendMessage",
            status=429,
            description="Too Many Requests: retry after 1",
            retry_after=1,
        )
        limiter = SteadyRateLimiter(rate=2)
        async with ExtBot(fake.token, base_url=fake.base_url, rate_limiter=limiter) as bot:
            # The second chat's send is due 0.5 s after the first, inside the 1 s pause.
            sent = await asyncio.wait_for(
                asyncio.gather(bot.send_message(1, "een"), bot.send_message(2, "twee")), 30
            )
        calls = fake.calls_to("sendMessage")

    assert [message.text for message in sent] == ["een", "twee"]
    assert [(call.params["chat_id"], call.status) for call in calls] == [
        (1, 429),
        (1, 200),
        (2, 200),
    ]
    assert calls[1].at - calls[0].at >= 1.0
    assert calls[2].at - calls[0].at >= 1.0
    assert [
        record.levelname
        for record in caplog.records
        if record.name == "bot.channels.telegram.rate_limit"
    ] == ["WARNING"]


async def test_a_stricter_server_per_chat_limit_is_waited_out_in_order() -> None:
    # The limiter lets a turn's three replies out at once; this server allows one per second.
    limits = SendLimits(overall_per_second=30, per_chat_per_second=1.0, per_chat_burst=1)
    with FakeBotApi(limits=limits) as fake:
        limiter = SteadyRateLimiter(rate=29, per_chat_burst=3)
        async with ExtBot(fake.token, base_url=fake.base_url, rate_limiter=limiter) as bot:
            texts = ["een", "twee", "drie"]
            sent = await asyncio.wait_for(
                asyncio.gather(*(bot.send_message(5, text) for text in texts)), 30
            )
        stats = fake.send_stats()
        delivered = [call.params["text"] for call in fake.sent_messages(5)]

    assert [message.text for message in sent] == texts
    assert delivered == texts
    assert stats.too_many_requests >= 1
    assert stats.count == 3 and stats.duplicates == 0
