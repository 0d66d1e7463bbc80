"""How an alert reads: one title and a body in plain text or markdown, plus a stable JSON form.

Every channel renders through here so an e-mail, a webhook, the console and the Atom feed all say the
same thing, and all carry the idempotency key a receiver drops repeats by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from alerts.model import AlertMessage

IDEMPOTENCY_HEADER = "Idempotency-Key"

_SPACE_RE = re.compile(r"\s+")
# Characters that would turn scraped text into markdown markup (links, emphasis, headings, html).
_MARKDOWN_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>#|~])")


@dataclass(frozen=True)
class RenderedMessage:
    """An alert as a channel sends it."""

    title: str
    text: str
    markdown: str


def one_line(value: str) -> str:
    """Scraped titles carry newlines and tabs; a subject line or a feed title must not."""
    return _SPACE_RE.sub(" ", value).strip()


def _md(value: str) -> str:
    return _MARKDOWN_SPECIAL_RE.sub(r"\\\1", one_line(value))


def event_label(event_type: str) -> str:
    """'working_session' -> 'Working session'."""
    label = event_type.replace("_", " ").strip()
    return label[:1].upper() + label[1:] if label else "Event"


def render_title(message: AlertMessage) -> str:
    return f"{event_label(message.event_type)}: {one_line(message.title)}"


def _fields(message: AlertMessage) -> list[tuple[str, str]]:
    """The labelled facts of the alert, in display order, without the empty ones."""
    rows = [
        ("Source", message.source),
        ("Event", event_label(message.event_type)),
        ("Date", message.event_date.isoformat() if message.event_date else ""),
        ("Place", message.place or ""),
        ("Organizer", message.organizer or ""),
        ("Link", message.link),
        ("Why", message.why),
    ]
    return [(label, one_line(value)) for label, value in rows if value and value.strip()]


def _detected(message: AlertMessage) -> str:
    return _aware(message.detected_at).isoformat(timespec="seconds")


def render_text(message: AlertMessage) -> str:
    lines = [one_line(message.title), ""]
    lines += [f"{label}: {value}" for label, value in _fields(message)]
    if message.editions:
        lines += ["", "Editions:"]
        lines += [f"  {language}: {url}" for language, url in message.editions]
    lines += ["", "--", f"Detected at: {_detected(message)}", f"{IDEMPOTENCY_HEADER}: {message.idempotency_key}"]
    return "\n".join(lines) + "\n"


def render_markdown(message: AlertMessage) -> str:
    lines = [f"**[{_md(message.title)}]({_url(message.link)})**", ""]
    fields = _fields(message)
    for index, (label, value) in enumerate(fields):
        shown = f"<{_url(value)}>" if label == "Link" else _md(value)
        # Two trailing spaces: a markdown hard line break, so fields stay one per line.
        lines.append(f"**{label}:** {shown}" + ("  " if index < len(fields) - 1 else ""))
    if message.editions:
        lines += ["", "**Editions:**", ""]
        lines += [f"- {_md(language)}: <{_url(url)}>" for language, url in message.editions]
    lines += [
        "",
        "---",
        "",
        f"Detected at: {_detected(message)}  ",
        # Verbatim, not escaped: receivers match this line literally.
        f"{IDEMPOTENCY_HEADER}: {message.idempotency_key}",
    ]
    return "\n".join(lines) + "\n"


def render(message: AlertMessage) -> RenderedMessage:
    return RenderedMessage(title=render_title(message), text=render_text(message), markdown=render_markdown(message))


def to_json(message: AlertMessage) -> dict[str, Any]:
    """The alert as plain JSON values; keys are a contract (webhooks, `alerts list --json`)."""
    return {
        "event_id": message.event_id,
        "idempotency_key": message.idempotency_key,
        "title": message.title,
        "source": message.source,
        "link": message.link,
        "event_type": message.event_type,
        "event_date": message.event_date.isoformat() if message.event_date else None,
        "place": message.place,
        "organizer": message.organizer,
        "why": message.why,
        "detected_at": _aware(message.detected_at).isoformat(),
        "editions": [{"language": language, "url": url} for language, url in message.editions],
    }


def _url(url: str) -> str:
    # A URL inside <...> or (...) ends at whitespace or the closing bracket; percent-encode those.
    return one_line(url).replace(" ", "%20").replace(">", "%3E").replace(")", "%29")


def _aware(moment: datetime) -> datetime:
    """Naive datetimes in the project are UTC; every rendering states the offset."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
