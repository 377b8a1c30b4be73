"""The renderer: worker processes, the on-disk cache and its ETags, time limits and crashes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import pytest

from service.settings import ROOT, SettingsError, get_settings
from service.summary import (
    Summary,
    SummaryRenderer,
    SummaryRenderError,
    SummaryRenderTimeoutError,
    render_summary_pdf,
)
from tests.summary.faults import always_crash, counted, crash_first, stall_once_each

Summarize = Callable[..., Awaitable[Summary]]


def cached_files(cache: Path) -> list[str]:
    return sorted(path.name for path in cache.rglob("*") if path.is_file())


async def test_workers_yield_the_cpu_to_the_server(tmp_path: Path) -> None:
    async with SummaryRenderer(tmp_path / "cache", workers=2) as renderer:
        await renderer.start()
        pids = renderer.worker_pids()
        assert len(pids) == 2
        assert os.sched_getscheduler(0) != os.SCHED_IDLE
        assert all(os.sched_getscheduler(pid) == os.SCHED_IDLE for pid in pids)


async def test_a_cache_hit_gives_the_same_bytes_and_etag_without_rendering(
    summarize: Summarize, tmp_path: Path
) -> None:
    summary = await summarize()
    cache, renders = tmp_path / "cache", tmp_path / "renders"
    renders.mkdir()
    async with SummaryRenderer(cache, render=partial(counted, renders)) as renderer:
        first = await renderer.summary_pdf(summary)
        second = await renderer.summary_pdf(summary)
        assert renderer.etag_of(summary) == first.etag
    assert len(list(renders.iterdir())) == 1
    assert (second.content, second.etag) == (first.content, first.etag)
    assert first.content == render_summary_pdf(summary)
    assert first.etag.startswith('"r1-')
    assert first.filename == f"summary-{summary.reference}.pdf"

    # Another process's renderer on the same folder serves it too, and never renders: its
    # workers would crash if asked to.
    async with SummaryRenderer(cache, render=always_crash) as other:
        third = await other.summary_pdf(summary)
    assert (third.content, third.etag) == (first.content, first.etag)


async def test_a_new_revision_is_rendered_again_and_replaces_the_old_file(
    summarize: Summarize, tmp_path: Path
) -> None:
    summary = await summarize()
    cache = tmp_path / "cache"
    async with SummaryRenderer(cache, workers=1) as renderer:
        first = await renderer.summary_pdf(summary)
        changed = await summarize()  # another intake, to borrow a second revision's content
        revised = Summary(**{**_fields(changed), "intake_id": summary.intake_id, "revision": 2})
        second = await renderer.summary_pdf(revised)
    assert second.etag != first.etag
    assert second.etag.startswith('"r2-')
    assert second.content != first.content
    assert cached_files(cache) == [second.etag.strip('"') + ".pdf"]


async def test_concurrent_requests_for_one_summary_share_one_render(
    summarize: Summarize, tmp_path: Path
) -> None:
    summary = await summarize()
    renders = tmp_path / "renders"
    renders.mkdir()
    async with SummaryRenderer(tmp_path / "cache", render=partial(counted, renders)) as renderer:
        results = await asyncio.gather(*(renderer.summary_pdf(summary) for _ in range(5)))
    assert len({result.content for result in results}) == 1
    assert len(list(renders.iterdir())) == 1


async def test_a_crashed_worker_gives_a_clear_error_leaves_nothing_and_a_retry_succeeds(
    summarize: Summarize, tmp_path: Path
) -> None:
    summary = await summarize()
    cache = tmp_path / "cache"
    crashing = partial(crash_first, tmp_path / "crashed")
    async with SummaryRenderer(cache, workers=1, render=crashing) as renderer:
        with pytest.raises(SummaryRenderError, match="stopped unexpectedly"):
            await renderer.summary_pdf(summary)
        assert cached_files(cache) == []
        retried = await renderer.summary_pdf(summary)
        # The dead worker's font folder went when the new pool started.
        work_dir = renderer._work_dir  # the folder is the point here
        assert work_dir is not None
        left = [int(folder.name.split("-")[1]) for folder in work_dir.glob("worker-*")]
        assert left == list(renderer.worker_pids())
    assert retried.content == render_summary_pdf(summary)
    assert cached_files(cache) == [retried.etag.strip('"') + ".pdf"]


async def test_a_render_over_the_time_limit_gives_a_clear_error_and_a_retry_succeeds(
    summarize: Summarize, tmp_path: Path
) -> None:
    """A real render, given far too little time, then enough."""
    summary = await summarize()
    cache = tmp_path / "cache"
    async with SummaryRenderer(cache, workers=1) as renderer:
        await renderer.start()
        renderer.timeout = 0.02
        with pytest.raises(SummaryRenderTimeoutError, match=r"longer than 0\.02 s") as timed_out:
            await renderer.summary_pdf(summary)
        assert cached_files(cache) == []
        # It would most likely run over again at once: the client waits longer than after a crash.
        renderer.timeout = 20
        assert renderer.retry_after(timed_out.value) == "20"
        assert renderer.retry_after(SummaryRenderError("crashed")) == "5"
        renderer.timeout = 60
        retried = await renderer.summary_pdf(summary)
    assert retried.content == render_summary_pdf(summary)


async def test_with_prerender_off_nothing_renders_until_asked(
    summarize: Summarize, tmp_path: Path
) -> None:
    summary = await summarize()
    cache, renders = tmp_path / "cache", tmp_path / "renders"
    renders.mkdir()
    async with SummaryRenderer(cache, render=partial(counted, renders), prerender=False) as off:
        await off.prerender(summary)
        assert cached_files(cache) == []
        assert off.worker_pids() == ()  # not even a worker was started
        asked = await off.summary_pdf(summary)
    assert len(list(renders.iterdir())) == 1
    assert cached_files(cache) == [asked.etag.strip('"') + ".pdf"]


def test_the_renderer_settings_come_from_the_environment(
    service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SUMMARY_WORKERS", "SUMMARY_TIMEOUT_SECONDS", "SUMMARY_PRERENDER"):
        monkeypatch.delenv(name, raising=False)  # a test run may set them for speed
    get_settings.cache_clear()
    defaults = get_settings()
    assert defaults.summary_workers == max(1, len(os.sched_getaffinity(0)) - 1)
    assert (defaults.summary_timeout_seconds, defaults.summary_prerender) == (20.0, True)
    monkeypatch.setenv("SUMMARY_WORKERS", "3")
    monkeypatch.setenv("SUMMARY_TIMEOUT_SECONDS", "45")
    monkeypatch.setenv("SUMMARY_PRERENDER", "false")
    get_settings.cache_clear()
    chosen = get_settings()
    assert (chosen.summary_workers, chosen.summary_timeout_seconds) == (3, 45.0)
    assert chosen.summary_prerender is False
    monkeypatch.setenv("SUMMARY_WORKERS", "0")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="SUMMARY_WORKERS must be at least 1"):
        get_settings()


async def test_a_stuck_render_is_killed_and_the_render_beside_it_is_retried(
    summarize: Summarize, tmp_path: Path
) -> None:
    """Killing a stuck worker takes its pool down; the innocent render sharing it still
    succeeds, retried once on a fresh pool."""
    stuck, innocent = await summarize(), await summarize()
    # The stuck one would take 30 s, the innocent one 6 s; the limit is 4 s. The innocent one
    # starts 1.5 s later, so it is still running when the stuck one's pool is killed.
    stalls = {stuck.reference: 30.0, innocent.reference: 6.0}
    stalling = partial(stall_once_each, tmp_path, stalls)
    async with SummaryRenderer(tmp_path / "cache", workers=2, render=stalling) as renderer:
        await renderer.start()
        renderer.timeout = 4
        stuck_task = asyncio.create_task(renderer.render(stuck))
        await asyncio.sleep(1.5)
        innocent_pdf = await renderer.render(innocent)
        with pytest.raises(SummaryRenderTimeoutError):
            await stuck_task
        assert innocent_pdf == render_summary_pdf(innocent)
        assert await renderer.render(stuck) == render_summary_pdf(stuck)


async def test_prerender_fills_the_cache_and_a_failure_is_only_logged(
    summarize: Summarize, tmp_path: Path
) -> None:
    summary = await summarize()
    cache = tmp_path / "cache"
    async with SummaryRenderer(cache, workers=1, render=always_crash) as failing:
        await failing.prerender(summary)  # does not raise
    assert cached_files(cache) == []
    async with SummaryRenderer(cache, workers=1) as renderer:
        await renderer.prerender(summary)
        assert cached_files(cache) == [renderer.etag_of(summary).strip('"') + ".pdf"]
        renderer.forget(summary.intake_id)
    assert cached_files(cache) == []


async def test_a_damaged_cache_file_is_rendered_again(summarize: Summarize, tmp_path: Path) -> None:
    summary = await summarize()
    cache = tmp_path / "cache"
    async with SummaryRenderer(cache, workers=1) as renderer:
        good = await renderer.summary_pdf(summary)
        (path,) = cache.rglob("*.pdf")
        path.write_bytes(good.content[: len(good.content) // 2])  # as after a power cut
        again = await renderer.summary_pdf(summary)
    assert again.content == good.content
    assert path.read_bytes() == good.content


async def test_closing_removes_the_temporary_files_and_starts_nothing_after(
    summarize: Summarize, tmp_path: Path
) -> None:
    summary = await summarize()
    renderer = SummaryRenderer(tmp_path / "cache", workers=2)
    await renderer.start()
    await renderer.render(summary)
    workers = list(renderer.worker_pids())
    work_dir = renderer._work_dir  # the folder is the point here
    assert work_dir is not None
    assert any(work_dir.iterdir())
    await renderer.close()
    # Every worker has stopped before its fonts' folder goes (not one still rendering from it).
    assert _running(workers) == []
    assert not work_dir.exists()
    with pytest.raises(SummaryRenderError, match="shut down"):
        await renderer.render(summary)  # starts no worker nobody would stop


def _fields(summary: Summary) -> dict[str, object]:
    return {name: getattr(summary, name) for name in Summary.__dataclass_fields__}


OWNER_KILLED = """
import asyncio, os, signal, sys
from pathlib import Path
from service.summary import SummaryRenderer

async def main():
    renderer = SummaryRenderer(Path(sys.argv[1]), workers=2)
    await renderer.start()
    print(renderer._work_dir, *renderer.worker_pids(), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no shutdown, no finally: as the crash test does

asyncio.run(main())
"""


def test_workers_end_when_the_server_is_killed(tmp_path: Path) -> None:
    # Not asyncio's subprocess: its wait() also waits for EOF on the pipes, which orphaned
    # workers would hold off for ever.
    process = subprocess.Popen(
        [sys.executable, "-c", OWNER_KILLED, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    work_dir, *pids = process.stdout.readline().split()
    workers = [int(pid) for pid in pids]
    assert process.wait(30) == -signal.SIGKILL
    process.stdout.close()
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while _running(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphans = _running(workers)
    for pid in orphans:  # this test's own leftovers, if the property is broken
        os.kill(pid, signal.SIGKILL)
    assert not orphans, "orphaned render workers"
    assert not Path(work_dir.decode()).exists(), "the last worker out removes the work folder"


def _running(pids: list[int]) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


async def test_prerenders_beyond_a_small_backlog_are_skipped_and_the_doctor_never_is(
    summarize: Summarize, tmp_path: Path
) -> None:
    summaries = [await summarize(full_name=f"Patient {number}") for number in range(6)]
    renders = tmp_path / "renders"
    renders.mkdir()
    async with SummaryRenderer(
        tmp_path / "cache", workers=1, render=partial(counted, renders)
    ) as renderer:
        # A burst of submissions: each asks for a prerender while the earlier ones still run.
        prerenders = [asyncio.create_task(renderer.prerender(s)) for s in summaries[:5]]
        await asyncio.gather(*prerenders)
        assert len(list(renders.iterdir())) == 2  # one worker, a backlog of two; three skipped
        # The doctor opens a skipped one: it renders on request.
        opened = await renderer.summary_pdf(summaries[4])
        assert opened.content == render_summary_pdf(summaries[4])
        assert len(list(renders.iterdir())) == 3
