"""When a failed delivery is tried again."""

from datetime import datetime, timedelta

from riskreg.notifications.models import DeliveryStatus


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16, … minutes after the 1st, 2nd, 3rd, … failed attempt (capped at a day)."""
    return timedelta(minutes=min(2 ** (attempts - 1), 24 * 60))


def after_failure(attempts: int, max_attempts: int, now: datetime) -> dict[str, object]:
    """The fields of a delivery whose attempt failed: retried later, or failed for good."""
    if attempts >= max_attempts:
        return {"status": DeliveryStatus.FAILED}
    return {"status": DeliveryStatus.PENDING, "next_attempt_at": now + retry_delay(attempts)}
