"""The rates Slack was found to accept, per Web API method, kept for the next start and the other instances.

A hosted Sprout keeps each workspace in its own database or schema, so a row here is per workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from db.models import LearnedPace


class LearnedPaces:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def per_minute(self, method: str) -> float | None:
        """The rate last learned for ``method``, or None when none was."""
        with self.engine.connect() as conn:
            return conn.execute(select(LearnedPace.per_minute).where(LearnedPace.method == method)).scalar()

    def keep(self, method: str, per_minute: float, *, now: datetime) -> None:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(LearnedPace).values(method=method, per_minute=per_minute, updated_at=now)
        statement = statement.on_conflict_do_update(index_elements=["method"],
                                                    set_={"per_minute": per_minute, "updated_at": now})
        with self.engine.begin() as conn:
            conn.execute(statement)
