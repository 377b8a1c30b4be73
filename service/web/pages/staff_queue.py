"""The reception queue page: live rows, emergency alerts, and the status buttons."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.clinic import Clinic
from service.codes import STATUS_LABELS, next_statuses
from service.control_characters import has_control_characters
from service.intake import IntakeService
from service.intake.outbox import CHANNEL
from service.intake.status import IllegalMoveError
from service.queue import QueueEntry, Status, queue_entries
from service.settings import Settings
from service.staff import Role
from service.staff.sessions import SESSION_CHANNEL, SessionKeeper, by_id
from service.web.access import ALL_STAFF, principal_of, session_of, staff
from service.web.dependencies import AppSettings
from service.web.error_pages import error_page
from service.web.inputs import parse_statuses
from service.web.pages.staff_layout import LEVEL_LABELS, staff_context

DayParameter = Annotated[date | None, QueryParameter(name="date", description="Clinic-local day")]


async def _queue_context(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    clinic: Clinic,
    settings: Settings,
    day: date | None,
    status: list[str] | None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    shown_day = day or clinic.today(now)
    statuses = parse_statuses(status)
    entries: list[QueueEntry] = await queue_entries(
        db_session,
        day=shown_day,
        timezone=clinic.timezone,
        statuses=statuses,
        now=now,
        long_wait_minutes=settings.long_wait_minutes,
    )
    principal = principal_of(request)
    audit.record(db_session, principal.actor, "queue.viewed", rows=len(entries))
    await db_session.commit()
    query = f"date={shown_day.isoformat()}&status={','.join(sorted(s.value for s in statuses))}"
    return staff_context(
        clinic,
        request,
        entries=entries,
        alerts=[entry for entry in entries if entry.unacknowledged_emergency],
        day=shown_day,
        statuses=statuses,
        all_statuses=list(Status),
        query=query,
        level_labels=LEVEL_LABELS,
        status_labels=STATUS_LABELS,
        next_statuses=lambda current: [s for s in Status if s in next_statuses(current)],
        can_move=principal.role in {Role.RECEPTION, Role.DOCTOR},
        can_open=principal.role is Role.DOCTOR,
        long_wait_minutes=settings.long_wait_minutes,
    )


@get("/staff/queue", operation_id="queuePage", include_in_schema=False, opt=staff(*ALL_STAFF))
async def queue_page(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
    date_: DayParameter = None,
    status: FromQuery[list[str] | None] = None,
) -> Template:
    context = await _queue_context(request, db_session, clinic, settings, date_, status)
    return Template("staff/queue.html", context=context)


@get(
    "/staff/queue/rows",
    operation_id="queueRows",
    include_in_schema=False,
    opt=staff(*ALL_STAFF, session_use=False),  # reloaded by the page's script, nobody's use
)
async def queue_rows(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
    date_: DayParameter = None,
    status: FromQuery[list[str] | None] = None,
) -> Template:
    """The alerts and the table body, for the page's script to swap in after an event."""
    context = await _queue_context(request, db_session, clinic, settings, date_, status)
    return Template("staff/_queue_live.html", context=context)


@get(
    "/staff/queue/events",
    operation_id="queueEvents",
    include_in_schema=False,
    opt=staff(*ALL_STAFF, session_use=False),  # opened and reopened by the browser by itself
)
async def queue_events(
    request: Request[Any, Any, Any],
    channels: NamedDependency[ChannelsPlugin],
    settings: AppSettings,
    staff_sessions: NamedDependency[SessionKeeper],
) -> ServerSentEvent:
    """Server-sent events: one `queue` event per change (ids and levels only).

    Each stream ends after `live_stream_seconds`; the browser reconnects by itself, so no
    connection lives for ever. A stream opened with a staff session ends as soon as that
    session does, with a `signed-out` event: at the notice of its end (sign-out, password
    reset, disable, sign-out everywhere, on any worker), or else at the next keepalive (every
    `live_keepalive_seconds`), which checks the session again (an end no notice reached, such
    as the idle limit). Neither the stream nor its checks count as use of the session, so an
    unattended screen goes idle.
    """
    session = session_of(request)

    async def still_signed_in() -> bool:
        return session is None or (
            await staff_sessions.find(by_id(session.id), datetime.now(UTC), use=False) is not None
        )

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + settings.live_stream_seconds
        async with (
            channels.start_subscription([CHANNEL]) as queue,
            channels.start_subscription([SESSION_CHANNEL]) as ended_sessions,
        ):
            listening = _Listening(queue.iter_events(), ended_sessions.iter_events())
            yield ServerSentEventMessage(data=None, comment="connected", retry=3000)
            try:
                while (left := ends_at - loop.time()) > 0:
                    message, ended = await listening.next(
                        min(settings.live_keepalive_seconds, left)
                    )
                    if ended is not None:
                        if session is not None and ended == str(session.id).encode():
                            break
                    elif message is not None:
                        yield ServerSentEventMessage(event="queue", data=message.decode())
                    elif not await still_signed_in():
                        break
                    else:
                        yield ServerSentEventMessage(data=None, comment="keepalive")
                else:
                    return  # the stream's time is up: the browser reconnects
                # The page shows the sign-in form instead of a queue that has stopped moving.
                yield ServerSentEventMessage(event="signed-out", data="")
            finally:
                listening.stop()

    return ServerSentEvent(stream(), headers={"X-Accel-Buffering": "no"})


class _Listening:
    """The next queue event or session-end notice, whichever comes first.

    Each next item is awaited across keepalives, never cancelled: cancelling an iterator's
    step would end the subscription's iterator for good.
    """

    def __init__(self, queue: AsyncIterator[bytes], ended: AsyncIterator[bytes]) -> None:
        self._sources = (queue, ended)
        self._pending: list[asyncio.Future[bytes] | None] = [None, None]

    async def next(self, seconds: float) -> tuple[bytes | None, bytes | None]:
        """(a queue event, an ended session's id); both None when `seconds` passed first."""
        for index, source in enumerate(self._sources):
            self._pending[index] = self._pending[index] or asyncio.ensure_future(anext(source))
        waiting = {future for future in self._pending if future is not None}
        await asyncio.wait(waiting, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        found: list[bytes | None] = [None, None]
        for index in (1, 0):  # a session's end first: nothing is sent after it
            future = self._pending[index]
            if future is not None and future.done():
                found[index], self._pending[index] = future.result(), None
                break  # one at a time: the other stays pending for the next call
        return found[0], found[1]

    def stop(self) -> None:
        for future in self._pending:
            if future is not None:
                future.cancel()


def _back_to_queue(form_value: object) -> str:
    query = str(form_value or "")
    return (
        f"/staff/queue?{query}"
        if query and "//" not in query and "\\" not in query and not has_control_characters(query)
        else "/staff/queue"
    )


@post(
    "/staff/intakes/{intake_id:uuid}/status",
    operation_id="queueStatusForm",
    include_in_schema=False,
    opt=staff(Role.RECEPTION, Role.DOCTOR),
)
async def status_form(
    request: Request[Any, Any, Any],
    intake_id: FromPath[UUID],
    intakes: NamedDependency[IntakeService],
) -> Response[Any]:
    form = await request.form()
    intake = await intakes.load(intake_id)
    try:
        target = Status(str(form.get("status")))
        await intakes.move(intake, target, principal_of(request), datetime.now(UTC))
    except (ValueError, IllegalMoveError):
        return error_page(request, HTTP_409_CONFLICT)
    return Redirect(_back_to_queue(form.get("return_to")), status_code=HTTP_303_SEE_OTHER)


@post(
    "/staff/intakes/{intake_id:uuid}/acknowledge",
    operation_id="acknowledgeEmergency",
    include_in_schema=False,
    opt=staff(*ALL_STAFF),
)
async def acknowledge_form(
    request: Request[Any, Any, Any],
    intake_id: FromPath[UUID],
    intakes: NamedDependency[IntakeService],
) -> Redirect:
    form = await request.form()
    intake = await intakes.load(intake_id)
    await intakes.acknowledge(intake, principal_of(request), datetime.now(UTC))
    return Redirect(_back_to_queue(form.get("return_to")), status_code=HTTP_303_SEE_OTHER)
