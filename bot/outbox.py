"""How each kind of outbox message is drawn at the moment it is sent."""

from __future__ import annotations

from collections.abc import Callable

from bot.blocks import lesson_message
from content_packs.catalog import Catalog
from db.store import OutboxItem, Store
from scheduler.sending import OutgoingMessage


def outbox_renderer(*, store: Store, catalog: Catalog) -> Callable[[OutboxItem], OutgoingMessage | None]:
    def render(item: OutboxItem) -> OutgoingMessage | None:
        if item.kind == "lesson" and item.delivery_id is not None:
            state = store.delivery_state(item.delivery_id)
            if state is None:
                return None
            pack = catalog.get(state.pack_id)
            lesson = catalog.lesson(state.pack_id, state.lesson_id)
            if pack is None or lesson is None:
                return None
            message = lesson_message(pack, lesson, state)
            return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)
        return None

    return render
