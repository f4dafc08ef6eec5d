"""A phone given in the web chat is a *claim* until the visitor proves it is theirs.

Anyone can type any number into the contact card. Were it attached to the visitor's lead at
once, the SMS of the number's real owner would land in a stranger's conversation. So the
number is kept as a contact detail only, an `Identity` of kind "phone_claim": never matched by
an inbound message (those look up kind "phone"), yet exported, erased and unmerged with the
lead like every identity, with no schema change. Pronto texts a 6-digit code to the number
(through the outbox, author "system"); the visitor types it in the chat within
`CODE_MINUTES`, in at most `MAX_TRIES` tries. Then the number becomes a "phone" identity of
the lead (audited `lead.phone_confirmed`) and its SMS join the visitor's conversation. When the
number already belongs to another lead, nothing moves silently: `lead.merge_needed` is audited
and an admin merges (or not).

The pending code lives in Redis (a hash per lead, with the code's digest, the tries and the
expiry by the services' clock), not in SQL: it is worthless after 15 minutes, and a code lost
with Redis only means the visitor asks for another. Codes never reach the logs or the audit.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.messages import SMS, WEBCHAT, Inbound
from gateway.services import Services
from gateway.store.leads import audit
from gateway.store.models import Identity, Lead, Message

log = logging.getLogger(__name__)
CLAIM = "phone_claim"
"""Identity kind of a phone given in the web chat and not yet confirmed."""
CODE_MINUTES = 15
MAX_TRIES = 5
CODES_PER_PHONE_PER_HOUR = 3
"""So the contact card cannot be used to flood someone else's phone with codes."""
_CODE = re.compile(r"^\d{6}$")
_SEPARATORS = re.compile(r"[\s\-.]")


def _key(lead_id: int) -> str:
    return f"pronto:phone-claim:{lead_id}"


def _digest(lead_id: int, phone: str, code: str) -> str:
    return hashlib.sha256(f"{lead_id}:{phone}:{code}".encode()).hexdigest()


def _phone_key(phone: str) -> str:
    # Hashed: Redis keys show up in monitoring tools, phones must not.
    return "pronto:phone-codes:" + hashlib.sha256(phone.encode()).hexdigest()[:32]


class PhoneClaims:
    """Claims of phones made in the web chat, and their confirmation by code."""

    def __init__(self, services: Services) -> None:
        self.s = services

    async def claim(self, session: AsyncSession, lead: Lead, phone: str, inbound: Inbound
                    ) -> None:
        """Keep `phone` as the lead's unconfirmed contact detail and text it a code.

        Args:
            session: The message's transaction.
            lead: The web chat visitor's lead.
            phone: The number given, E.164.
            inbound: The contact card (its address is the chat session the answer goes to).
        """
        owner = await session.scalar(
            select(Identity).where(Identity.kind == "phone", Identity.address == phone))
        if owner is not None and owner.lead_id == lead.id:
            return  # confirmed already
        row = await session.scalar(
            select(Identity).where(Identity.kind == CLAIM, Identity.address == phone))
        if row is None:
            row = Identity(lead_id=lead.id, kind=CLAIM, address=phone)
            session.add(row)
        elif row.lead_id != lead.id:
            # One open claim per number (the identity is unique): the newest claimer holds it,
            # and only whoever reads the code on that phone can confirm it, so a stale or
            # false claim by someone else is simply overtaken.
            audit(session, "lead.phone_claim_taken", lead_id=row.lead_id, by_lead_id=lead.id,
                  identity_id=row.id)
            row.lead_id = lead.id
        await session.flush()
        audit(session, "lead.phone_claimed", lead_id=lead.id, identity_id=row.id)
        if owner is not None:
            other = await session.get(Lead, owner.lead_id)
            if other is not None and other.opted_out:
                # The number's owner said STOP: not even a code goes to it.
                audit(session, "lead.phone_code_refused", lead_id=lead.id, reason="opted_out",
                      identity_id=row.id)
                return
        sent = int(await self.s.redis.incr(_phone_key(phone)))
        if sent == 1:
            await self.s.redis.expire(_phone_key(phone), 3600)
        if sent > CODES_PER_PHONE_PER_HOUR:
            audit(session, "lead.phone_code_refused", lead_id=lead.id, reason="rate",
                  identity_id=row.id)
            return
        code = f"{secrets.randbelow(10**6):06d}"
        expires = self.s.clock() + timedelta(minutes=CODE_MINUTES)
        await self.s.redis.delete(_key(lead.id))
        await self.s.redis.hset(_key(lead.id), mapping={
            "phone": phone, "digest": _digest(lead.id, phone, code), "tries": 0,
            "expires": expires.isoformat(),
        })
        # Redis forgets the hash some time after the code lapsed by the (injectable) clock.
        await self.s.redis.expire(_key(lead.id), (CODE_MINUTES + 5) * 60)
        lang = lead.language
        brokerage = self.s.settings.brokerage
        await self.s.outbox.queue(
            session, channel=SMS, address=phone, author="system", lead_id=lead.id,
            text=self.s.templates.render("phone_code_sms", lang, code=code, brokerage=brokerage),
            language=lang)
        await self._tell(session, lead, inbound, "phone_code_sent")
        audit(session, "lead.phone_code_sent", lead_id=lead.id, identity_id=row.id)
        log.info("phone claim code sent for lead %s", lead.id)

    async def answer(self, session: AsyncSession, lead: Lead, msg: Message, inbound: Inbound
                     ) -> bool:
        """A web chat message while a code is pending: the code, or a wrong one.

        Returns:
            True when the message was a code attempt (answered here; the bot never sees it).
            Anything not shaped like a code goes on to the bot as usual.
        """
        if inbound.channel != WEBCHAT:
            return False
        text = _SEPARATORS.sub("", inbound.text)
        if not _CODE.match(text):
            return False
        raw = await self.s.redis.hgetall(_key(lead.id))
        if not raw:
            return False
        pending = {k.decode() if isinstance(k, bytes) else str(k):
                   v.decode() if isinstance(v, bytes) else str(v) for k, v in raw.items()}
        msg.bot_status = "skipped"
        phone = pending["phone"]
        if self.s.clock() > datetime.fromisoformat(pending["expires"]):
            await self.s.redis.delete(_key(lead.id))
            audit(session, "lead.phone_claim_expired", lead_id=lead.id, message_id=msg.id)
            await self._tell(session, lead, inbound, "phone_code_failed")
            return True
        if secrets.compare_digest(_digest(lead.id, phone, text), pending["digest"]):
            await self.s.redis.delete(_key(lead.id))
            await self._confirm(session, lead, phone, msg)
            await self._tell(session, lead, inbound, "phone_confirmed")
            return True
        tries = int(await self.s.redis.hincrby(_key(lead.id), "tries", 1))
        audit(session, "lead.phone_code_wrong", lead_id=lead.id, message_id=msg.id, tries=tries)
        if tries >= MAX_TRIES:
            await self.s.redis.delete(_key(lead.id))
            audit(session, "lead.phone_claim_failed", lead_id=lead.id, reason="tries")
            await self._tell(session, lead, inbound, "phone_code_failed")
        else:
            await self._tell(session, lead, inbound, "phone_code_wrong")
        return True

    async def _confirm(self, session: AsyncSession, lead: Lead, phone: str, msg: Message
                       ) -> None:
        """The visitor proved the number: it joins the lead, unless another lead has it."""
        owner = await session.scalar(
            select(Identity).where(Identity.kind == "phone", Identity.address == phone))
        claim = await session.scalar(
            select(Identity).where(Identity.kind == CLAIM, Identity.address == phone,
                                   Identity.lead_id == lead.id))
        if owner is not None and owner.lead_id != lead.id:
            # Two records of one person: merging moves conversations and owners, an admin's
            # call. The claim stays as the contact detail meanwhile.
            audit(session, "lead.merge_needed", lead_id=lead.id, other_lead_id=owner.lead_id,
                  identity_id=owner.id, reason="phone_confirmed", message_id=msg.id)
            audit(session, "lead.merge_needed", lead_id=owner.lead_id, other_lead_id=lead.id,
                  identity_id=owner.id, reason="phone_confirmed")
            return
        if owner is None:
            try:
                async with session.begin_nested():
                    session.add(Identity(lead_id=lead.id, kind="phone", address=phone))
            except IntegrityError:
                # The number's first SMS created its own lead this very moment.
                audit(session, "lead.merge_needed", lead_id=lead.id, reason="phone_confirmed",
                      message_id=msg.id)
                return
        if claim is not None:
            await session.delete(claim)
        lead.phone = lead.phone or phone
        audit(session, "lead.phone_confirmed", lead_id=lead.id, message_id=msg.id)

    async def _tell(self, session: AsyncSession, lead: Lead, inbound: Inbound, template: str
                    ) -> None:
        await self.s.outbox.queue(
            session, channel=inbound.channel, address=inbound.address, author="system",
            text=self.s.templates.render(template, lead.language,
                                         brokerage=self.s.settings.brokerage),
            lead_id=lead.id, language=lead.language)
