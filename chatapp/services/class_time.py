"""The time zone a school's classes keep time in: homework due times and attendance spans are
entered and shown in it (CLASS_TIME_ZONE, an IANA name; UTC unless configured); stored in UTC."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def class_time_zone() -> ZoneInfo:
    """The zone of CLASS_TIME_ZONE."""
    return ZoneInfo(current_app.config.get("CLASS_TIME_ZONE") or "UTC")


def to_class_time(moment: datetime) -> datetime:
    """A stored (naive UTC) time as the classes' wall clock shows it (naive)."""
    return moment.replace(tzinfo=timezone.utc).astimezone(class_time_zone()).replace(tzinfo=None)


def from_class_time(moment: datetime) -> datetime:
    """A naive time on the classes' wall clock as stored (naive UTC)."""
    return moment.replace(tzinfo=class_time_zone()).astimezone(timezone.utc).replace(tzinfo=None)
