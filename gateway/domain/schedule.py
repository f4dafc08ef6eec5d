"""Weekly time windows (working hours, on-call, business hours), evaluated in a time zone.

Pure: every function takes `now` (an aware datetime) as a parameter; nothing reads a clock.
A window written "18:00-08:00" crosses midnight: it starts on the listed day and ends the next
morning. "00:00-24:00" is the whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPANISH_DAYS = {"lun": 0, "mar": 1, "mie": 2, "mié": 2, "jue": 3, "vie": 4, "sab": 5, "sáb": 5,
                 "dom": 6}


def parse_days(spec: str) -> frozenset[int]:
    """Parse "mon-fri", "sat,sun", "daily" or "mon" into weekday numbers (Monday = 0).

    Raises:
        ValueError: the spec names an unknown day.
    """
    spec = spec.strip().lower()
    if spec in ("daily", "all", "every day", "everyday"):
        return frozenset(range(7))
    out: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (_day(p) for p in part.split("-", 1))
            d = first
            while True:
                out.add(d)
                if d == last:
                    break
                d = (d + 1) % 7
        else:
            out.add(_day(part))
    return frozenset(out)


def _day(name: str) -> int:
    name = name.strip().lower()[:3]
    if name in DAYS:
        return DAYS.index(name)
    if name in _SPANISH_DAYS:
        return _SPANISH_DAYS[name]
    raise ValueError(f"unknown day '{name}' (use mon, tue, … sun, ranges like mon-fri)")


def parse_span(spec: str) -> tuple[int, int]:
    """Parse "09:00-18:00" into minutes after midnight (end may be 1440 for 24:00).

    Raises:
        ValueError: the span is not HH:MM-HH:MM or is empty.
    """
    try:
        a, b = (s.strip() for s in spec.split("-", 1))
        start, end = _minutes(a), _minutes(b)
    except (ValueError, IndexError):
        raise ValueError(f"'{spec}' is not a time span like 09:00-18:00") from None
    if start == end or start >= 1440:
        raise ValueError(f"'{spec}' is an empty time span")
    return start, end


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    value = int(h) * 60 + int(m)
    if not (0 <= int(m) < 60 and 0 <= value <= 1440):
        raise ValueError(hhmm)
    return value


@dataclass(frozen=True, slots=True)
class Window:
    """One recurring window: on `days`, from `start` to `end` minutes after midnight."""

    days: frozenset[int]
    start: int
    end: int

    def contains(self, local: datetime) -> bool:
        """Whether a local (zone-converted) time falls inside this window."""
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= minute < self.end
        # Crosses midnight: the evening part belongs to the listed day, the morning part to
        # the day after it.
        return (day in self.days and minute >= self.start) or (
            (day - 1) % 7 in self.days and minute < self.end
        )


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """A set of weekly windows in one time zone."""

    tz: str
    windows: tuple[Window, ...]

    @classmethod
    def parse(cls, tz: str, spec: dict[str, str | list[str]]) -> WeeklySchedule:
        """Build from {"mon-fri": "09:00-18:00", "sat": ["10:00-12:00", "13:00-15:00"]}.

        Raises:
            ValueError: a day, a span or the time zone is invalid.
        """
        ZoneInfo(tz)  # raises for an unknown zone
        windows: list[Window] = []
        for days, spans in spec.items():
            day_set = parse_days(str(days))
            for span in [spans] if isinstance(spans, str) else spans:
                start, end = parse_span(str(span))
                windows.append(Window(day_set, start, end))
        return cls(tz, tuple(windows))

    def local(self, now: datetime) -> datetime:
        """`now` in this schedule's time zone."""
        return now.astimezone(ZoneInfo(self.tz))

    def contains(self, now: datetime) -> bool:
        """Whether `now` (aware) falls in any window."""
        local = self.local(now)
        return any(w.contains(local) for w in self.windows)

    def next_opening(self, now: datetime, horizon_days: int = 8) -> datetime | None:
        """The next moment (aware, in this zone) a window is open; `now` itself if open.

        Scans minute boundaries of window starts over the coming days; None if the schedule is
        empty.
        """
        if self.contains(now):
            return self.local(now)
        local = self.local(now)
        best: datetime | None = None
        for offset in range(horizon_days):
            day = (local + timedelta(days=offset)).date()
            for w in self.windows:
                if day.weekday() not in w.days:
                    continue
                start = datetime.combine(
                    day, time(w.start // 60, w.start % 60), tzinfo=ZoneInfo(self.tz)
                )
                if start > local and (best is None or start < best):
                    best = start
            if best is not None:
                return best
        return best
