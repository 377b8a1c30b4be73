"""Renders summaries in worker processes and caches them, so the event loop never waits on PDF."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType

import structlog

from service.summary._cache import CacheEntry, SummaryCache, SummaryPdf
from service.summary._rendering import (
    SummaryRenderError,
    SummaryRenderTimeoutError,
    renderer_version,
)
from service.summary._view import Summary
from service.summary._worker import alive, ping, render_in_worker, start_worker

log = structlog.get_logger(__name__)
# Prerenders waiting per worker before more are skipped (a doctor's request never is).
PRERENDER_BACKLOG_PER_WORKER = 2

RenderFunction = Callable[[Summary], bytes]
# forkserver: workers fork from a clean server process that has imported WeasyPrint once, so a
# recycled worker starts in milliseconds, and no worker inherits the event loop's threads.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["service.summary._pdf", "service.summary._worker"])
# How soon a client may ask again after a failed render (a crash: a fresh worker is ready fast).
RETRY_AFTER_SECONDS = 5


class SummaryRenderer:
    """PDF summaries rendered off the event loop, cached on disk, with a time limit.

    One per event loop (the app's lifespan). At most `workers` renders run at once; the others
    wait here rather than inside the pool, so the time limit measures rendering, not queueing.
    A render over the limit has its pool's workers killed, and renders that shared the pool are
    retried once on a fresh one. `render` is the work each worker does; tests pass a function
    that crashes or stalls. With `prerender` off, `prerender()` does nothing and a summary is
    rendered when first asked for.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        workers: int = 2,
        timeout: float = 20.0,
        max_tasks_per_child: int = 200,
        render: RenderFunction = render_in_worker,
        prerender: bool = True,
    ) -> None:
        self.cache = SummaryCache(cache_dir)
        self.timeout = timeout
        self.prerenders = prerender
        self.version = renderer_version()
        self.workers = workers
        self._max_tasks = max_tasks_per_child
        self._render = render
        self._slots = asyncio.Semaphore(workers)
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0
        self._stopped: set[int] = set()
        self._work_dir: Path | None = None
        self._inflight: dict[Path, asyncio.Task[SummaryPdf]] = {}
        self._prerendering = 0
        self._closed = False

    async def __aenter__(self) -> SummaryRenderer:
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start and warm every worker now, so the first request finds them ready."""
        pool, _ = self._current_pool()
        # A warm worker may answer several pings while another is still loading its fonts, so
        # ping until every worker has answered (each answers only once warm).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        answered: set[int] = set()
        while len(answered) < self.workers and loop.time() < deadline:
            pings = (asyncio.wrap_future(pool.submit(ping)) for _ in range(self.workers))
            answered.update(await asyncio.gather(*pings))

    async def close(self) -> None:
        """Stop the workers (a stuck one is killed after the time limit) and remove temp files."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            # Taken before shutdown(), which forgets them: the work folder may only go once
            # every worker has stopped using it.
            processes = list(_processes(pool).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                await asyncio.to_thread(process.join, self.timeout)
                if process.is_alive():
                    process.kill()
                    await asyncio.to_thread(process.join, 1)
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None

    def etag_of(self, summary: Summary) -> str:
        """The ETag the PDF of `summary` has (or will have): cheap, for If-None-Match."""
        return self.cache.entry(summary, self.version).etag

    def worker_pids(self) -> tuple[int, ...]:
        """The current workers' process ids (for the benchmark's memory figures)."""
        pool = self._pool
        return tuple(_processes(pool)) if pool else ()

    async def summary_pdf(self, summary: Summary) -> SummaryPdf:
        """The cached PDF of `summary`, rendered first when there is none.

        Raises `SummaryRenderError` (answer 503 with Retry-After): nothing was stored, and the
        next call renders again. Concurrent calls for one summary share one render.
        """
        entry = self.cache.entry(summary, self.version)
        content = await asyncio.to_thread(self.cache.read, entry)
        if content is not None:
            return SummaryPdf(content, entry.etag, summary.filename)
        task = self._inflight.get(entry.path)
        if task is None:
            task = asyncio.create_task(self._render_and_store(summary, entry))
            self._inflight[entry.path] = task
            task.add_done_callback(lambda done: self._forget_task(entry.path, done))
        # Shielded: a caller that goes away does not cancel a render others may be waiting for.
        return await asyncio.shield(task)

    def has_room_to_prerender(self) -> bool:
        """Whether a prerender asked for now would run (prerendering on, backlog not full)."""
        return self.prerenders and self._prerendering < self.workers * PRERENDER_BACKLOG_PER_WORKER

    async def prerender(self, summary: Summary) -> None:
        """Render and cache in the background (after submission, override, re-triage).

        A failure is only logged: the intake is already stored, and the doctor's request retries.
        When more renders are waiting than the workers can start at once, this one is skipped:
        a backlog of prerenders would hold memory and make a doctor's own request wait behind
        every summary submitted before it. The doctor's first open then renders it.
        """
        if not self.prerenders:
            return
        if not self.has_room_to_prerender():
            log.info("summary prerender skipped: renderer busy", intake_id=summary.intake_id)
            return
        self._prerendering += 1
        try:
            await self.summary_pdf(summary)
        except SummaryRenderError as error:
            log.warning(
                "summary prerender failed",
                intake_id=summary.intake_id,
                revision=summary.revision,
                error=type(error).__name__,
            )
        finally:
            self._prerendering -= 1

    def retry_after(self, error: SummaryRenderError) -> str:
        """The Retry-After, in seconds, for a 503 caused by `error`.

        A render stopped at the time limit would most likely take as long again at once (a
        summary that is slow to lay out, a saturated machine), so that client waits a whole time
        limit; after any other failure a fresh worker is ready in moments.
        """
        if isinstance(error, SummaryRenderTimeoutError):
            return str(max(RETRY_AFTER_SECONDS, math.ceil(self.timeout)))
        return str(RETRY_AFTER_SECONDS)

    def forget(self, intake_id: str) -> None:
        """Delete the cached PDFs of an intake (erasure and purge)."""
        self.cache.forget(intake_id)

    async def render(self, summary: Summary) -> bytes:
        """A fresh render in a worker process, within the time limit; no cache involved."""
        async with self._slots:
            for attempt in range(2):
                pool, generation = self._current_pool()
                try:
                    future = pool.submit(self._render, summary)
                except (BrokenProcessPool, RuntimeError):
                    # Broken before we came (a worker died between renders): start afresh.
                    self._replace(generation)
                    continue
                limit = asyncio.timeout(self.timeout)
                try:
                    async with limit:
                        return await asyncio.wrap_future(future)
                except TimeoutError:
                    if not limit.expired():
                        raise SummaryRenderError("the summary could not be rendered") from None
                    self._replace(generation, stop=True)
                    raise SummaryRenderTimeoutError(
                        f"rendering the summary took longer than {self.timeout:g} s"
                    ) from None
                except BrokenProcessPool:
                    stopped_on_purpose = generation in self._stopped
                    self._replace(generation)
                    if stopped_on_purpose and attempt == 0:
                        continue
                    raise SummaryRenderError("the render worker stopped unexpectedly") from None
                except SummaryRenderError:
                    raise
                except Exception as error:
                    raise SummaryRenderError(
                        f"the summary could not be rendered ({type(error).__name__})"
                    ) from error
        raise SummaryRenderError("the render workers could not be started")

    async def _render_and_store(self, summary: Summary, entry: CacheEntry) -> SummaryPdf:
        content = await self.render(summary)
        try:
            await asyncio.to_thread(self.cache.write, entry, content)
        except OSError as error:
            # The PDF is good; only the cache failed (disk full). Serve it; a later call retries.
            log.warning("summary cache write failed", error=type(error).__name__)
        return SummaryPdf(content, entry.etag, summary.filename)

    def _forget_task(self, path: Path, task: asyncio.Task[SummaryPdf]) -> None:
        if self._inflight.get(path) is task:
            del self._inflight[path]
        if not task.cancelled():
            # Retrieved here so that a render nobody waits for any more is not reported as lost.
            task.exception()

    def _current_pool(self) -> tuple[ProcessPoolExecutor, int]:
        if self._closed:
            # A request still running at shutdown must not start workers nobody will stop.
            raise SummaryRenderError("the summary renderer is shut down")
        if self._pool is None:
            if self._work_dir is None:
                self._work_dir = Path(tempfile.mkdtemp(prefix="clinic-summary-"))
            self._sweep(self._work_dir)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_CONTEXT,
                initializer=start_worker,
                initargs=(str(self._work_dir), os.getpid()),
                max_tasks_per_child=self._max_tasks,
            )
        return self._pool, self._generation

    @staticmethod
    def _sweep(work_dir: Path) -> None:
        """Remove the folders of workers that died without tidying up (a crash, a kill)."""
        for folder in work_dir.glob("worker-*-*"):
            pid = folder.name.split("-")[1]
            if pid.isdigit() and not alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)

    def _replace(self, generation: int, *, stop: bool = False) -> None:
        """Retire the pool of `generation` (killing its workers when `stop`); the next call
        starts a new one. A pool already replaced by another render is left alone."""
        pool = self._pool
        if pool is None or generation != self._generation:
            return
        self._pool = None
        self._generation += 1
        if stop:
            self._stopped.add(generation)
            for pid, process in list(_processes(pool).items()):
                process.kill()
                if self._work_dir is not None:
                    for folder in self._work_dir.glob(f"worker-{pid}-*"):
                        shutil.rmtree(folder, ignore_errors=True)
        pool.shutdown(wait=False, cancel_futures=True)


def _processes(pool: ProcessPoolExecutor) -> Mapping[int, BaseProcess]:
    """The pool's worker processes by pid. Python 3.11 has no public way to reach them (3.14
    adds `kill_workers`), and killing a stuck render needs them."""
    return pool._processes or {}
