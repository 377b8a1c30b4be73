"""`GET /api/v1/intakes/{id}/summary.pdf`: the doctor's PDF, cached per intake revision."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_304_NOT_MODIFIED, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.models import Intake
from service.staff import Role
from service.summary import SummaryRenderer, SummaryRenderError, summary_of
from service.web.access import audit_read
from service.web.api.openapi import staff_operation
from service.web.api.staff import IntakeId, load_intake
from service.web.problems import problem

_documented = staff_operation(
    [Role.DOCTOR],
    400,
    404,
    described={503: "Rendering failed or the database is down; retry after Retry-After"},
)
_documented["responses"][304] = ResponseSpec(
    data_container=None, description="Not modified: the If-None-Match ETag is current"
)


def prerender(renderer: SummaryRenderer, intake: Intake, clinic: Clinic) -> BackgroundTask | None:
    """After the response: render the PDF so the doctor's first open is already cached.

    None when the renderer would skip it anyway (prerendering off, or its backlog full): under
    a burst of submissions, building summaries that are never rendered only slows the burst."""
    if not renderer.has_room_to_prerender():
        return None
    return BackgroundTask(renderer.prerender, summary_of(intake, clinic))


@get(
    "/api/v1/intakes/{intake_id:uuid}/summary.pdf",
    operation_id="getIntakeSummaryPdf",
    tags=["staff"],
    summary="The PDF summary for the sexologist",
    media_type="application/pdf",
    response_headers=[
        ResponseHeader(
            name="ETag",
            description="Strong validator of this revision; send it back in If-None-Match",
            documentation_only=True,
            required=True,
        ),
        ResponseHeader(
            name="Content-Disposition",
            description='inline; filename="<reference>.pdf"',
            documentation_only=True,
            required=True,
        ),
    ],
    **_documented,
)
async def summary_pdf(
    request: Request[Any, Any, Any],
    intake_id: IntakeId,
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    summaries: NamedDependency[SummaryRenderer],
) -> Response[bytes]:
    """Rendered off the event loop and cached per intake revision, with a strong ETag. Each
    read is audited, a conditional one (304) too. Browsers keep no copy (`no-store`, from
    service.web.edge); the ETag is for clients that keep their own."""
    intake = await load_intake(db_session, intake_id)
    summary = summary_of(intake, clinic)
    await audit_read(db_session, request, "intake.summary_viewed", intake.id)
    etag = summaries.etag_of(summary)
    headers = {"ETag": etag}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    try:
        pdf = await summaries.summary_pdf(summary)
    except SummaryRenderError as error:
        raise problem(
            HTTP_503_SERVICE_UNAVAILABLE,
            "The summary could not be made just now; the intake is safe.",
            headers={"Retry-After": summaries.retry_after(error)},
        ) from None
    return Response(
        pdf.content,
        media_type="application/pdf",
        headers={
            **headers,
            "ETag": pdf.etag,
            "Content-Disposition": f'inline; filename="{pdf.filename}"',
        },
    )
