"""The demo's next improvement board, four weeks after the load day: an update round is running."""

from __future__ import annotations

import datetime as dt

from improvement import services


def load_demo_board(ctx) -> None:
    if ctx.authority.board_meetings.exists():
        return
    services.board_meeting_create(
        authority=ctx.authority,
        meets_on=ctx.anchor + dt.timedelta(days=28),
        by=ctx.users["leader"],
        today=ctx.anchor,
    )
