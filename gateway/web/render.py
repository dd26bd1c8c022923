"""Pages from Jinja2 templates, with the few filters every screen uses (times, durations, statuses).

Every page answer re-sends the session cookie, so a browser that arrives
without one gets its form token with the first page it sees.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gateway.web.auth import read_session, write_session

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def duration(seconds: float | None) -> str:
    """`45s`, `12m`, `3h 05m`, `2d 4h`: how long, for people."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def since(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago `moment` was, as a duration."""
    if moment is None:
        return "—"
    return duration(((now or datetime.now(timezone.utc)) - moment).total_seconds())


def when(moment: datetime | None) -> str:
    """`Tue 10:04` this week, `4 Dec 10:04` before (UTC)."""
    if moment is None:
        return "—"
    age = datetime.now(timezone.utc) - moment
    return moment.strftime("%a %H:%M" if age.days < 6 else "%-d %b %H:%M")


def stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


templates.env.filters.update(duration=duration, since=since, when=when, stamp=stamp)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render `name` with `context`; the session cookie rides along."""
    web_session = read_session(request)
    response = templates.TemplateResponse(request, name, {"csrf": web_session.csrf, **context},
                                          status_code=status_code)
    write_session(response, request.app.state.runtime.config, web_session)
    return response
