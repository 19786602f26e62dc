"""What a notification says: the e-mail subject and plain-text body, the webhook document."""

from datetime import datetime
from typing import Any

from django.conf import settings

from riskreg.audit.services import jsonable
from riskreg.notifications.events import Event
from riskreg.notifications.models import NotificationKind

SUBJECT_TITLE_CHARS = 120


def _one_line(text: str, limit: int) -> str:
    """Titles are user text: a newline in a mail header is refused, so flatten it."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def link(event: Event) -> str:
    return settings.RISKREG_BASE_URL + event.path


def subject(event: Event) -> str:
    what = NotificationKind(event.kind).label
    return f"[riskreg] {what}: {event.object_label} {_one_line(event.title, SUBJECT_TITLE_CHARS)}"


def body(event: Event, organisation: str) -> str:
    """Plain text naming the object, the facts and the link; no HTML, nothing to escape."""
    facts = "\n".join(
        f"  {name.replace('_', ' ')}: {value}" for name, value in event.details.items()
    )
    return (
        f"{event.summary}\n\n"
        f"{event.object_label}  {_one_line(event.title, 500)}\n"
        f"{facts}\n\n"
        f"Open it: {link(event)}\n\n"
        f"-- \nriskreg, organisation {organisation}. You receive this e-mail because of your role "
        "or because you own this item; change what you receive at /api/v1/me/notifications/.\n"
    )


def document(event: Event, *, uid: str, organisation: str, created_at: datetime) -> dict[str, Any]:
    """The webhook body (before canonical encoding): the same for every attempt."""
    result: dict[str, Any] = jsonable(
        {
            "id": uid,
            "kind": event.kind,
            "event_key": event.key,
            "organisation": organisation,
            "created_at": created_at,
            "summary": event.summary,
            "object": {
                "type": event.object_type,
                "label": event.object_label,
                "title": event.title,
                "url": link(event),
            },
            "details": event.details,
        }
    )
    return result
