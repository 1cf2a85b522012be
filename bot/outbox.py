"""How each kind of outbox message is drawn at the moment it is sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.blocks import (
    certificate_message,
    lesson_message,
    pause_offer_message,
    recert_invite_message,
    reminder_message,
    review_message,
)
from bot.i18n import for_learner, speaking
from bot.service import shown_view
from content_packs.catalog import Catalog
from db.store import OutboxItem, Store
from learning.errors import Gone
from scheduler.sending import OutgoingMessage

ItemRenderer = Callable[[OutboxItem], OutgoingMessage | None]


def outbox_renderer(
    *, store: Store, catalog: Catalog, reviews: Callable[[int], object] | None = None,
    kinds: dict[str, ItemRenderer] | None = None, default_language: str = "en",
) -> Callable[[Sequence[OutboxItem]], list[OutgoingMessage | None]]:
    """``reviews(session_id)`` gives a review session's view (LearningService.review_view); ``kinds`` adds
    renderers for the outbox kinds of other features (digests, announcements, prompts…)."""
    extra = kinds if kinds is not None else {}  # shared: features registered later are seen
    """Render a batch of outbox items; None for an item means there is nothing to send any more."""

    def render(items: Sequence[OutboxItem]) -> list[OutgoingMessage | None]:
        states = store.delivery_states((i.delivery_id for i in items if i.delivery_id is not None), sending=True)
        languages = store.languages(i.learner_id for i in items)  # each message in its reader's language
        out = []
        for item in items:
            chosen, locale = languages.get(item.learner_id, (None, None))
            try:
                with speaking(for_learner(chosen, locale, default=default_language)):
                    out.append(render_one(item, states.get(item.delivery_id) if item.delivery_id else None))
            except Gone:
                out.append(None)  # what it was about no longer exists: nothing to send
        return out

    def render_one(item: OutboxItem, state) -> OutgoingMessage | None:
        if item.kind in extra:
            return extra[item.kind](item)
        if item.kind == "lesson":
            view = shown_view(catalog, state) if state else None  # in the language it was queued in
            if view is None:
                return None
            message = lesson_message(view.pack, view.lesson, view.state)
            return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)
        if item.kind == "reminder":
            lesson = catalog.shown_lesson(state.pack_id, state.lesson_id, state.language) if state else None
            if state is None or lesson is None or not state.message_ts or state.answers or state.rating:
                return None  # answered in the meantime, or gone: no nudge
            message = reminder_message(lesson)
            return OutgoingMessage(channel=state.channel_id or item.channel, text=message.text,
                                   blocks=message.blocks, thread_ts=state.message_ts)
        if item.kind == "pause_offer":
            message = pause_offer_message()
            return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)
        if item.kind in ("review", "recert") and reviews is not None and item.payload:
            view = reviews(int(item.payload["session"]))
            if not view.items:
                return None
            message = review_message(view)
            if item.kind == "recert" and view.pack and view.pack.certificate:
                cert = store.active_certificate(view.session.learner_id, view.pack.id)
                invite = recert_invite_message(view.pack.certificate.name, cert.expires_at if cert else None)
                message = type(message)(invite.text, invite.blocks + message.blocks)
            return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks[:50])
        if item.kind == "certificate" and item.payload:
            cert = next((c for c in store.certificates(item.learner_id) if c.id == item.payload["certificate"]), None)
            pack = catalog.get(cert.pack_id) if cert else None
            if cert is None:
                return None
            message = certificate_message(cert.name, pack.title if pack else cert.pack_id, cert.score, cert.expires_at)
            return OutgoingMessage(channel=item.channel, text=message.text, blocks=message.blocks)
        return None

    return render
