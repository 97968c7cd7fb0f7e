"""One logging configuration for every seattui process (stdlib `logging.config`).

The portal (`seattui serve`, or the app factory under uvicorn or gunicorn) logs to standard
error, as text or as JSON lines, each line with its time, level and the id of the request it
belongs to. The terminal app logs to `seattui.log`, which rotates by size and never records
the URLs the app calls: their query strings carry what the user types into filters.
"""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
ACCESS_LOGGER = "seattui.access"
TRUE_WORDS = ("1", "true", "yes", "on")

# The request a line belongs to; "-" outside requests (start-up, background work).
request_id: ContextVar[str] = ContextVar("seattui_request_id", default="-")

# What an access line carries besides its message; the JSON format gives each its own key.
ACCESS_FIELDS = ("method", "path", "route", "status", "duration_ms", "client")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, request_id, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in ACCESS_FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _formatters() -> dict[str, Any]:
    return {
        "text": {"format": TEXT_FORMAT},
        "json": {"()": JsonLinesFormatter},
    }


def configure_portal_logging(level: str = "info", log_format: LogFormat = "text", access_log: bool = False) -> None:
    """The portal's logs on standard error; uvicorn's own loggers go through the same handler."""
    level_name = level.upper()
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": _formatters(),
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                       "formatter": log_format, "filters": ["request_id"]},
        },
        "loggers": {
            # seattui writes its own access lines (without query strings); uvicorn's stay off.
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "uvicorn": {"handlers": [], "propagate": True, "level": level_name},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level_name},
            ACCESS_LOGGER: {"level": "INFO" if access_log else "WARNING"},
            "alembic.runtime.plugins": {"level": "WARNING"},  # a line per plugin at every start
            "httpx": {"level": "WARNING"},  # URLs with their query strings
        },
        "root": {"handlers": ["stderr"], "level": level_name},
    })


def configure_app_logging(log_file: Path, *, max_bytes: int = 5 * 1024 * 1024, backups: int = 3) -> None:
    """The terminal app's (and its embedded portal's) logs, to a file that rotates by size."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": _formatters(),
        "handlers": {
            "file": {"class": "logging.handlers.RotatingFileHandler", "filename": str(log_file),
                     "maxBytes": max_bytes, "backupCount": backups, "encoding": "utf-8",
                     "formatter": "text", "filters": ["request_id"]},
        },
        "loggers": {
            # httpx logs every URL it calls at INFO, query string and all: filter text, emails.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            ACCESS_LOGGER: {"level": "WARNING"},
        },
        "root": {"handlers": ["file"], "level": "INFO"},
    })
