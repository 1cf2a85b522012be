"""How each kind of outbox message is drawn at the moment it is sent."""

from __future__ import annotations

from collections.abc import Callable

from bot.blocks import lesson_message, pause_offer_message, reminder_message
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
        if item.kind == "reminder" and item.delivery_id is not None:
            state = store.delivery_state(item.delivery_id)
            lesson = catalog.lesson(state.pack_id, state.lesson_id) if state else None
            if state is None or lesson is None or not state.message_ts or store.delivery_engaged(state.id):
                return None  # answered in the meantime, or gone: no nudge
            message = reminder_message(lesson)
            return OutgoingMessage(channel=state.channel_id or item.channel, text=message.text, blocks=message.blocks,
                                   thread_ts=state.message_ts)
        if item.kind == "pause_offer":
            message = pause_offer_message()
            return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)
        return None

    return render
