"""How each kind of outbox message is drawn at the moment it is sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.blocks import lesson_message, pause_offer_message, reminder_message
from content_packs.catalog import Catalog
from db.store import OutboxItem, Store
from scheduler.sending import OutgoingMessage


def outbox_renderer(
    *, store: Store, catalog: Catalog
) -> Callable[[Sequence[OutboxItem]], list[OutgoingMessage | None]]:
    """Render a batch of outbox items; None for an item means there is nothing to send any more."""

    def render(items: Sequence[OutboxItem]) -> list[OutgoingMessage | None]:
        states = store.delivery_states(i.delivery_id for i in items if i.delivery_id is not None)
        return [render_one(item, states.get(item.delivery_id) if item.delivery_id else None) for item in items]

    def render_one(item: OutboxItem, state) -> OutgoingMessage | None:
        if item.kind == "lesson":
            pack = catalog.get(state.pack_id) if state else None
            lesson = catalog.lesson(state.pack_id, state.lesson_id) if state else None
            if pack is None or lesson is None:
                return None
            message = lesson_message(pack, lesson, state)
            return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)
        if item.kind == "reminder":
            lesson = catalog.lesson(state.pack_id, state.lesson_id) if state else None
            if state is None or lesson is None or not state.message_ts or state.answers or state.rating:
                return None  # answered in the meantime, or gone: no nudge
            message = reminder_message(lesson)
            return OutgoingMessage(channel=state.channel_id or item.channel, text=message.text,
                                   blocks=message.blocks, thread_ts=state.message_ts)
        if item.kind == "pause_offer":
            message = pause_offer_message()
            return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)
        return None

    return render
