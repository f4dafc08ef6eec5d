"""Revocation of consent written as a sentence, English and Spanish (pure).

A prospect may revoke consent "by any reasonable means", not only with the STOP keyword:
"please stop texting me", "take me off your list", "no me escriban más", "borra mi número".
`assess` reads one message and says whether it revokes, is a request about *how* we write
(flagged for the agent: "stop texting me so late", "no me llames", "don't text me, call me"), or
neither ("don't stop, I'm interested", "stop by the house tomorrow?", "no más de 300 mil").

The rules are phrase patterns over a folded form of the text (lower case, accents and
apostrophes removed, clauses split at sentence punctuation), each checked against what stands
around it: a negation before it ("don't stop texting me"), what is being sent ("stop sending me
condos" is a preference, "stop sending me texts" a revocation), the language the lead wants
("no me escribas en inglés"), and when or how often ("so late", "tan tarde", "tanto"), which turns
a revocation into a flag. When both a revocation and a flag are in one message, it revokes:
under-honouring an opt-out is the costly mistake.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Kind = Literal["revoke", "flag"]
_WORDS_MAX = 80


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a message asks of us about consent.

    Attributes:
        kind: "revoke" (opt the lead out) or "flag" (a request about timing, frequency or
            channel, for the agent to respect; the lead stays subscribed).
        rule: the rule that decided, e.g. "en.stop_verb" (for the audit trail).
        words: the words that matched, folded (lower case, no accents).
        language: the language of the rule ("en" or "es").
        reason: for a flag, "timing", "frequency", "calls" or "channel"; None for a revocation.
    """

    kind: Kind
    rule: str
    words: str
    language: str
    reason: str | None = None

    @property
    def revokes(self) -> bool:
        """True when the message revokes consent."""
        return self.kind == "revoke"


def fold(text: str) -> str:
    """Lower case, no accents, no apostrophes ("don't" → "dont"), clauses joined by " | "."""
    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = re.sub(r"[’‘`´']", "", t)
    t = re.sub(r"(\d)[:.](\d)", r"\1\2", t)  # 9:30 and 9.30 stay one token
    t = re.sub(r"[.,;!?¡¿()\[\]\"“”…\n]+", " | ", t)
    t = re.sub(r"[^\w|]+", " ", t)
    return re.sub(r"\s+", " ", t).strip()


# -- vocabulary ---------------------------------------------------------------------------

_EN_ING = (r"(?:texting|txting|texing|messaging|msging|messeging|contacting|emailing|e mailing"
           r"|writing|bothering|bugging|spamming|harassing|harrassing|pestering|pinging"
           r"|reaching out)")
_EN_BASE = (r"(?:text|txt|message|msg|contact|email|e mail|write|bother|bug|spam|harass"
            r"|pester|ping|reach out to)")
_EN_CALL_ING = r"(?:calling|ringing|phoning)"
_EN_CALL = r"(?:call|ring|phone)"
_EN_ME = r"(?:me|us|this number|this phone|my phone|my number|my cell|here)"
# What one "sends": a revocation when it is messages, a preference when it is homes.
_EN_SENT = (r"(?:texts?|text messages?|messages?|msgs?|txts?|sms(?:es)?|emails?|e mails?"
            r"|notifications?|alerts?|updates?|spam|ads|adverts?|promos?|promotions?|offers"
            r"|marketing|listings?|junk|stuff|things|crap|these|this|those|that|them|anything"
            r"|everything|it)")
_EN_MSGS = (r"(?:texts?|text messages?|messages?|msgs?|txts?|sms(?:es)?|emails?|spam"
            r"|notifications?|alerts?|updates?|marketing|promotions?)")
_ES_VERB = (r"(?:escrib(?:as|a|an|ais)|mand(?:es|e|en)|envi(?:es|e|en)|contact(?:es|e|en)"
            r"|mensaje(?:es|e|en)|texte(?:es|e|en)|molest(?:es|e|en)|busqu(?:es|e|en)"
            r"|whatsappe(?:es|e|en))")
_ES_INF = r"(?:escribir|mandar|enviar|contactar|molestar|mensajear|textear|buscar)"
_ES_GER = r"(?:escribiendo|mandando|enviando|contactando|molestando|mensajeando|buscando)"
_ES_CALL = r"(?:llam(?:es|e|en)|marqu(?:es|e|en))"
_ES_MSGS = (r"(?:mensajes?|mensajitos?|textos?|sms|msjs?|correos?|emails?|notificaciones"
            r"|alertas|publicidad|promociones|spam|whatsapps?|wasaps?)")
_ES_SENT = _ES_MSGS[:-1] + r"|nada|esto|eso|cosas|informacion|info)"
_SENDING = re.compile(r"\b(?:send|mand|envi)")

# -- what stands around a match -------------------------------------------------------------

_NEG = {
    "en": re.compile(
        r"(?:^|\s)(?:dont|do not|never|wont|will not|wouldnt|would not|not|didnt|did not|cant"
        r"|cannot|shouldnt|no need to|please dont)(?: ever)?"
        r"(?: want(?: (?:you|u|yall|you guys))? to)?(?: please)? $"
    ),
    "es": re.compile(r"(?:^|\s)(?:no|nunca)(?: quiero que| quiero)?(?: me| nos)? $"),
}
_TIMING = {
    "en": re.compile(
        r"\b(?:so|too|this|that|very) (?:late|early)\b|\b(?:late )?at night\b"
        r"|\bat (?:this|that) (?:hour|time)\b|\b(?:after|before|past|at) \d|\bat midnight\b"
        r"|\bin the (?:morning|evening|night|middle of the night)\b|\bovernight\b"
        r"|\bon (?:weekends|the weekend|sundays|saturdays)\b|\bat work\b"
        r"|\bduring (?:work|the day|the night|work hours|business hours|dinner|the week)\b"
        r"|\bwhile im (?:at work|working|driving)\b|\byet\b"
        r"|\b(?:until|till|til) (?:tomorrow|monday|tuesday|wednesday|thursday|friday|saturday"
        r"|sunday|next|the weekend|later|after|noon|the morning|the evening|tonight|\d)"
        r"|\bon (?:weekdays|work days)\b|\bbefore (?:noon|lunch)\b"
    ),
    "es": re.compile(
        r"\btan (?:tarde|temprano)\b|\bde (?:noche|madrugada)\b"
        r"|\b(?:en|por) la (?:noche|madrugada|manana)\b|\ba (?:esta|estas|esa|esas) horas?\b"
        r"|\b(?:despues|antes) de las?\b|\ba las \d|\b(?:los )?fines de semana\b"
        r"|\bel fin de semana\b|\ben (?:el|mi) trabajo\b|\bmientras trabajo\b|\btodavia\b"
        r"|\ba medianoche\b|\bentre semana\b|\bhasta (?:manana|el lunes|el martes"
        r"|el miercoles|el jueves|el viernes|el sabado|el domingo|la proxima|el proximo"
        r"|la tarde|la noche|las \d|el fin de semana|despues|mas tarde|\d)"
    ),
}
_FREQUENCY = {
    "en": re.compile(
        r"\b(?:so|too) (?:much|often|many)\b|\bevery (?:day|hour|morning|night|\d+ minutes)\b"
        r"|\beveryday\b|\ball (?:day|the time|night)\b|\bconstantly\b|\bnon ?stop\b"
        r"|\bmultiple times\b|\bseveral times\b|\btwice a\b"
    ),
    "es": re.compile(
        r"\btant[oa]s?\b|\btan (?:seguido|a menudo|frecuente)\b|\bseguido\b"
        r"|\btodos los dias\b|\btodo el dia\b|\bcada (?:rato|ratito|dia|hora)\b"
    ),
}
# Asks for another channel instead, or to keep texting (checked on the whole message).
_CHANNEL = re.compile(
    r"(?<!dont )(?<!do not )(?<!never )\b(?:call me|email me|e mail me)\b|\binstead\b"
    r"|\btext(?: me)? only\b|\bonly text\b|\bjust text\b"
    r"|(?<!no )\b(?:llamame|llameme|llamenme|marcame)\b|\ben vez de\b"
    r"|\bmejor (?:llama|llame|llamen|por correo|por email|por telefono|escribeme)\b"
    r"|\bsolo (?:por )?(?:mensaje|texto)s?\b"
)
_LANGUAGE_WISH = re.compile(
    r"\bin (?:english|spanish|espanol)\b|\ben (?:ingles|espanol|english|spanish)\b"
)
# "don't text me the address": the text is wanted elsewhere, not refused.
_DITRANSITIVE = re.compile(
    r"^(?:the|a|an|that|those|pictures|photos|pics|details|it|info|address|link|listings?)\b"
)
_EN_FILLERS = frozenset(
    "please pls plz ok okay k just now it this already seriously i said thanks thank you thx ty "
    "right immediately asap for real dude man bro sir maam all the yes no hey hi hello then "
    "again guys but so and oh omg god".split()
)
_ES_FILLERS = frozenset(
    "por favor porfa porfavor xfa ya ok okey ahora gracias si no pero y que".split()
)
_SENT_DETERMINERS = frozenset(
    "me us any all the these those your more so many such mas ya nunca ningun ninguno sus tus "
    "los las estos esos tantos tantas tanto este ese".split()
)
_BARE_STRONG = frozenset({"stop", "stopall", "unsubscribe", "optout", "basta"})
_BARE_WITH_COMPANY = frozenset({"alto"})  # "alto, por favor" yes; "precio: alto" no
_COMPANY = frozenset({"por", "favor", "porfa", "porfavor", "xfa", "ya", "please"})


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    language: str
    pattern: re.Pattern[str]
    contact: bool = False
    """A "don't write to me" rule: a flag when it is about timing, frequency or another
    channel, nothing when it is about the language ("no me escribas en inglés")."""
    sends: bool = False
    """When the verb is "send", what follows must be messages ("stop sending me condos" is a
    preference, "stop sending me texts" a revocation)."""
    calls: bool = False
    """About phone calls only: the prospect still accepts texts; the agent must not call."""
    negatable: bool = True
    """A negation right before it undoes it ("don't stop texting", "no dejes de escribirme");
    False for rules that are a negation themselves ("no me escriban", "don't text me")."""
    ditransitive: bool = False
    """"Don't text me the address": the thing is wanted another way, not the texts refused."""


def _r(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_RULES: tuple[_Rule, ...] = (
    # --- English ---
    _Rule("en.stop_verb", "en", _r(
        rf"\b(?:stop|quit|cease|halt)\s+(?:with\s+)?(?:all\s+)?(?:the\s+|these\s+|your\s+)?"
        rf"{_EN_ING}(?:\s+{_EN_ME})?\b"), contact=True),
    _Rule("en.stop_sending", "en", _r(
        r"\b(?:stop|quit|cease)\s+sending\b(?:\s+(?:me|us|this number)\b)?"), contact=True,
        sends=True),
    _Rule("en.stop_messages", "en", _r(
        rf"\b(?:stop|end|quit|cease)\s+(?:(?:all|the|these|those|your|this|with)\s+)*"
        rf"{_EN_MSGS}\b"), contact=True),
    _Rule("en.dont_contact", "en", _r(
        rf"\b(?:dont|do not|never)\s+(?:ever\s+)?{_EN_BASE}\s+{_EN_ME}\b"), contact=True,
        negatable=False, ditransitive=True),
    _Rule("en.dont_want_you_to", "en", _r(
        rf"\b(?:dont|do not|no longer) want (?:you|u|yall|you guys) to (?:keep )?"
        rf"(?:{_EN_BASE}|{_EN_ING})\b"), contact=True, negatable=False),
    _Rule("en.dont_want_messages", "en", _r(
        rf"\b(?:dont|do not|no longer|dont really|dont even)\s+want\s+"
        rf"(?:to\s+(?:receive|get|see)\s+)?"
        rf"(?:(?:any|anymore|any more|more|these|your|those|this|the|such|further)\s+)*"
        rf"{_EN_MSGS}\b"), contact=True, negatable=False),
    _Rule("en.no_more_messages", "en", _r(
        rf"\bno more\s+(?:(?:of\s+)?(?:your|these|the|those)\s+)?{_EN_MSGS}\b"), contact=True,
        negatable=False),
    _Rule("en.enough", "en", _r(
        r"\benough (?:with )?(?:the |these |your )?(?:texts|messages|msgs|spam|texting)\b")),
    _Rule("en.off_the_list", "en", _r(
        r"\b(?:remove|take|delete|drop|erase|scratch|get|cross)\s+(?:me|us|this number"
        r"|my (?:number|phone number|phone|cell|cell number|info|information|details"
        r"|contact info|data|name|email))\s+(?:off|from|out of)"
        r"(?:(?:\s+\w+){0,3}\s+(?:list|lists|database|system|contacts|texts|messages|mailing"
        r"|marketing|sms|notifications|alerts|this|here|it)\b|\s*$)")),
    _Rule("en.remove_number", "en", _r(
        r"\b(?:remove|delete|erase|lose|forget|drop|scrub|purge)\s+(?:my|this)\s+"
        r"(?:number|phone number|phone|cell|cell number|cell phone|contact|contact info"
        r"|contact information|info|information|details|data|personal data"
        r"|personal information)\b")),
    _Rule("en.unsubscribe", "en", _r(r"\bunsubscrib\w*")),
    _Rule("en.cancel_subscription", "en", _r(
        r"\bcancel (?:my |the |this |these |your |all )?(?:subscription|texts|text messages"
        r"|messages|sms|alerts|notifications)\b")),
    _Rule("en.remove_me", "en", _r(
        r"\b(?:remove|delete|unlist) (?:me|us)(?:\s+(?:please|pls|plz|now|asap|thanks|thank you"
        r"|already|immediately))*\s*$")),
    _Rule("en.opt_out", "en", _r(r"\bopt(?:ing|ed)?\s+(?:me\s+)?out\b|\boptout\b")),
    _Rule("en.leave_me_alone", "en", _r(r"\bleave (?:me|us) alone\b")),
    _Rule("en.calls", "en", _r(
        rf"\b(?:stop|quit|cease)\s+{_EN_CALL_ING}\b"), calls=True),
    _Rule("en.dont_call", "en", _r(
        rf"\b(?:dont|do not|never)\s+(?:ever\s+)?{_EN_CALL}\s+{_EN_ME}\b"), calls=True,
        negatable=False),
    # --- Spanish ---
    _Rule("es.no_me_escriban", "es", _r(
        rf"\b(?:no|nunca|nunca mas|jamas) (?:me|nos) {_ES_VERB}\b"), contact=True,
          sends=True, negatable=False),
    _Rule("es.no_vuelvan", "es", _r(
        rf"\bno (?:me |nos )?vuelv(?:as|a|an) a {_ES_INF}(?:me|nos)?\b"), contact=True,
          sends=True, negatable=False),
    _Rule("es.no_sigan", "es", _r(rf"\bno (?:me|nos) sig(?:as|a|an) {_ES_GER}\b"),
          contact=True, negatable=False),
    _Rule("es.dejen_de", "es", _r(
        rf"\b(?:deja|dejen|deje|dejes|dejad|dejar|dejan)\s+de\s+{_ES_INF}(?:me|nos|le)?\b"),
          contact=True, sends=True),
    _Rule("es.no_quiero_mensajes", "es", _r(
        rf"\bno quiero (?:recibir |que me (?:lleguen|manden|envien) )?"
        rf"(?:(?:mas|sus|tus|estos|esos|los|ningun|ninguno|ningunos|ninguna)\s+)*{_ES_MSGS}\b"),
          contact=True, negatable=False),
    _Rule("es.no_quiero_que", "es", _r(
        rf"\bno quiero que (?:me|nos) (?:sigan |vuelvan a )?"
        rf"(?:{_ES_VERB}|{_ES_GER}|{_ES_INF})\b"), contact=True, sends=True, negatable=False),
    _Rule("es.no_mas_mensajes", "es", _r(rf"\bno mas\s+{_ES_MSGS}\b"), contact=True,
          negatable=False),
    _Rule("es.basta", "es", _r(
        r"\bya basta\b|\bbasta ya\b|\bbasta de (?:mensajes|textos|escribir\w*|molestar\w*)")),
    _Rule("es.en_paz", "es", _r(r"\bdej(?:a|e|en|ad)(?:me|nos) en paz\b")),
    _Rule("es.fuera_de_la_lista", "es", _r(
        r"\b(?:saca|saque|saquen|sacar|quita|quite|quiten|quitar|borra|borre|borren|borrar"
        r"|elimina|elimine|eliminen|eliminar|remueve|remueva|remuevan|remover)"
        r"(?:me|nos)?\s+de\s+(?:(?:la|su|sus|tu|tus|esta|esa|las|los)\s+)?"
        r"(?:lista|listas|base|sistema|contactos|registros?|aqui)\b")),
    _Rule("es.borra_mi_numero", "es", _r(
        r"\b(?:borra|borre|borren|borrar|elimina|elimine|eliminen|eliminar|quita|quite"
        r"|quiten|quitar|saca|saque|saquen|sacar)\s+(?:mi|mis|este)\s+"
        r"(?:numero|telefono|celular|cel|contacto|datos|informacion|info|registro)\b"
        r"(?!\s+(?:viejo|anterior|antiguo|de (?:mi )?(?:trabajo|oficina|esposa|esposo)))")),
    _Rule("es.de_baja", "es", _r(
        r"\b(?:dame|denme|darme|dar|doy|damos|den|de|quiero la)\s+de\s+baja\b")),
    _Rule("es.suscripcion", "es", _r(
        r"\b(?:cancel|anul|termin|quit)\w*\s+(?:mi |la |su |esta |de la )?"
        r"(?:suscripcion|subscripcion)\b|\b(?:desuscri|desubscri|dessuscri|desinscri)\w*")),
    _Rule("es.calls", "es", _r(
        rf"\b(?:no|nunca|no quiero que) (?:me|nos) "
        rf"(?:{_ES_CALL}|vuelv(?:as|a|an) a llamar\w*)\b"), calls=True, negatable=False),
    _Rule("es.dejen_de_llamar", "es", _r(r"\bdej(?:a|en|e|es) de llamar\w*"), calls=True),
)


def _sent_is_messages(after: str, language: str) -> bool:
    """Whether what follows "stop sending (me)" / "no me manden" is messages, or nothing."""
    if re.match(r"(?:por|a (?:este|esta|mi|las?)|to (?:this|my))\b", after):
        return True  # "no me manden nada a este número": where, not what
    words = [w for w in after.split() if w not in _SENT_DETERMINERS]
    if not words or words[0] in (_EN_FILLERS if language == "en" else _ES_FILLERS):
        return True
    noun = _EN_SENT if language == "en" else _ES_SENT
    return re.match(rf"{noun}\b", " ".join(words)) is not None


def _judge(rule: _Rule, clause: str, m: re.Match[str], message: str) -> Verdict | None:
    before, after = clause[: m.start()], clause[m.end():].strip()
    language = rule.language

    def verdict(kind: Kind, reason: str | None = None) -> Verdict:
        return Verdict(kind, rule.name, m.group(0).strip()[:_WORDS_MAX], language, reason)

    if rule.negatable and _NEG[language].search(before):
        return None
    if rule.sends and _SENDING.search(m.group(0)) and not _sent_is_messages(after, language):
        return None
    if rule.ditransitive and _DITRANSITIVE.match(after):
        return None
    if (rule.contact or rule.calls) and _LANGUAGE_WISH.search(clause):
        return None  # "no me escribas en inglés": the language step's business
    if rule.calls:
        return verdict("flag", "calls")
    if not rule.contact:
        return verdict("revoke")
    for reason, table in (("timing", _TIMING), ("frequency", _FREQUENCY)):
        if table["en"].search(clause) or table["es"].search(clause):
            return verdict("flag", reason)
    if _CHANNEL.search(message):
        return verdict("flag", "channel")
    return verdict("revoke")


def _bare(clause: str, message: str) -> Verdict | None:
    """A clause that is only a STOP word and politeness ("please stop", "stop it now")."""
    text = re.sub(r"\bopt out\b", "optout", re.sub(r"\bstop all\b", "stopall", clause))
    words = [w for w in text.split() if w not in _EN_FILLERS and w not in _ES_FILLERS]
    if not words or len(set(words)) != 1:
        return None
    word = words[0]
    with_company = word in _BARE_WITH_COMPANY and any(w in _COMPANY for w in message.split())
    if word not in _BARE_STRONG and not with_company:
        return None
    language = "es" if word in {"basta", "alto"} else "en"
    return Verdict("revoke", f"{language}.bare", text[:_WORDS_MAX], language)


def assess(text: str) -> Verdict | None:
    """Whether a message revokes consent, asks something of how we write, or neither.

    Args:
        text: the message as the prospect wrote it.

    Returns:
        A revoking verdict as soon as any clause revokes; otherwise the first flag; otherwise
        None (an ordinary message).
    """
    folded = fold(text)
    flag: Verdict | None = None
    for clause in (c.strip() for c in folded.split("|")):
        if not clause:
            continue
        for rule in _RULES:
            for m in rule.pattern.finditer(clause):
                v = _judge(rule, clause, m, folded)
                if v is not None and v.revokes:
                    return v
                if v is not None and flag is None:
                    flag = v
        bare = _bare(clause, folded)
        if bare is not None:
            return bare
    return flag
