"""What `newswatch run` tells its user: what runs now and what comes next; JSON lines for services."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any, TextIO


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float):
        return round(value, 2)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _ago(when: Any) -> str:
    if not isinstance(when, datetime):
        return "?"
    return f"{when.astimezone():%H:%M:%S}"


_TEMPLATES = {
    "leader": "scheduler started on {archive} ({holder}); {jobs} sources",
    "waiting": "waiting: another scheduler holds this archive ({holder})",
    "crawl_started": "crawling {source}",
    "crawl_finished": "{source} {status} in {seconds:.1f}s: {new} new, {updated} updated, {known} known"
                      "{error_text}{next_text}",
    "next": "next: {summary}",
    "stopping": "stopping: {running} crawls to finish",
    "stopped": "stopped",
    "job_removed": "{source} is gone or disabled: no more crawls",
}


class Progress:
    """Thread-safe event lines on `stream`: readable text, or one JSON object per line."""

    def __init__(self, stream: TextIO, as_json: bool = False) -> None:
        self.stream = stream
        self.as_json = as_json
        self._lock = threading.Lock()

    def emit(self, event: str, **values: Any) -> None:
        now = datetime.now(UTC)
        if self.as_json:
            line = json.dumps({"time": now.isoformat(timespec="milliseconds"), "event": event,
                               **{key: _plain(value) for key, value in values.items()}}, ensure_ascii=False,
                              default=_json_default)
        else:
            line = f"{now.astimezone():%H:%M:%S} {self._text(event, values)}"
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    @staticmethod
    def _text(event: str, values: dict[str, Any]) -> str:
        template = _TEMPLATES.get(event)
        extra = {"error_text": f" ({values['error']})" if values.get("error") else "",
                 "next_text": f"; next in {values.get('interval')}s at {_ago(values.get('next_run_at'))}"
                 if values.get("next_run_at") else ""}
        if template is None:
            return event + "".join(f" {key}={_plain(value)}" for key, value in values.items())
        try:
            return template.format(**values, **extra)
        except (KeyError, ValueError):
            return event + "".join(f" {key}={_plain(value)}" for key, value in values.items())
