"""Structured logs. Events carry ids and error classes, never names, phones or answers."""

from __future__ import annotations

import logging
import os
import sys
import traceback

import structlog

_HANDLER_NAME = "service"


def _add_process_id(
    _logger: object, _method: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    # With WORKERS above 1, which server process wrote the line.
    event["pid"] = os.getpid()
    return event


_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    _add_process_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.PositionalArgumentsFormatter(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(level: str = "INFO") -> None:
    """Route structlog and the standard library (uvicorn, SQLAlchemy) through one formatter."""
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler: logging.Handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    # Replace our own handler when the app is built again; leave others (pytest's) in place.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(level)
    # Alembic narrates every schema check at INFO; only its warnings matter at run time.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # uvicorn sets up plain-text handlers of its own: send its lines through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Our own `request` line (service.web.edge) logs each request, with its request id;
    # uvicorn's access line would repeat it, and uvicorn writes one whenever that logger has a
    # handler, --no-access-log or not.
    logging.getLogger("uvicorn.access").disabled = True
    # SQLAlchemy logs statements with their parameters (names, answers) at INFO and DEBUG:
    # whatever LOG_LEVEL says, only its warnings may reach the log.
    # httpx names every webhook URL it posts to (a receiver's URL may carry its own token).
    for noisy in ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def raised_at(error: BaseException) -> list[str]:
    """Where `error` was raised (its last three frames), for a log line. Never the error's text:
    it can quote answers or SQL parameters."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    return [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in frames]
