"""The dashboard's UI strings in English and Spanish, and which one a request gets.

The language follows `?lang=` (kept in a cookie so it sticks), else the cookie, else the
browser's Accept-Language; English when nothing matches.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

LANG_COOKIE = "pronto_lang"
LANGS = ("en", "es")

# key: (English, Spanish)
_STRINGS: dict[str, tuple[str, str]] = {
    "overview": ("Overview", "Resumen"),
    "standard": ("Response standard", "Estándar de respuesta"),
    "agents": ("Agents", "Agentes"),
    "funnel": ("Funnel", "Embudo"),
    "inbox": ("Inbox", "Bandeja"),
    "nlu": ("NLU health", "Salud del NLU"),
    "delivery": ("Delivery", "Entregas"),
    "exports": ("Exports", "Exportar"),
    "today": ("Today", "Hoy"),
    "last_7": ("Last 7 days", "Últimos 7 días"),
    "last_30": ("Last 30 days", "Últimos 30 días"),
    "leads_in": ("Leads in", "Clientes entrantes"),
    "by_channel": ("By channel", "Por canal"),
    "by_source": ("By source", "Por origen"),
    "by_language": ("By language", "Por idioma"),
    "bot_reply": ("First bot reply", "Primera respuesta del bot"),
    "human_reply": ("First human reply", "Primera respuesta humana"),
    "accept": ("Time to agent accept", "Tiempo hasta que el agente acepta"),
    "speed": ("Speed to lead", "Velocidad de respuesta"),
    "speed_note": ("Bot and human replies are counted separately: an automatic answer never "
                   "counts as an agent's response. p50 = half the leads were faster; p90 = "
                   "nine in ten were.",
                   "Las respuestas del bot y las humanas se cuentan por separado: una respuesta "
                   "automática nunca cuenta como respuesta de un agente. p50 = la mitad fue más "
                   "rápida; p90 = nueve de cada diez."),
    "business": ("Business hours", "Horario laboral"),
    "after_hours": ("After hours", "Fuera de horario"),
    "all": ("All", "Todos"),
    "per_day": ("Per day (p90)", "Por día (p90)"),
    "per_day_note": ("Blue: leads that arrived in business hours; orange: after hours. "
                     "A tall bar is a slow day.",
                     "Azul: clientes llegados en horario laboral; naranja: fuera de horario. "
                     "Una barra alta es un día lento."),
    "waiting_now": ("Waiting now", "Esperando ahora"),
    "waits_for": ("Waits for", "Espera"),
    "wait_pending": ("an agent to accept", "que un agente acepte"),
    "wait_pool": ("the pool (escalated)", "el grupo (escalado)"),
    "wait_reply": ("the agent's reply", "la respuesta del agente"),
    "for": ("for", "desde hace"),
    "nobody_waiting": ("Nobody is waiting.", "Nadie está esperando."),
    "lead": ("Lead", "Cliente"),
    "name": ("Name", "Nombre"),
    "status": ("Status", "Estado"),
    "language": ("Language", "Idioma"),
    "channel": ("Channel", "Canal"),
    "source": ("Source", "Origen"),
    "owner": ("Owner", "Responsable"),
    "since_last": ("Since prospect's last message", "Desde el último mensaje del cliente"),
    "search": ("Search", "Buscar"),
    "filter": ("Filter", "Filtrar"),
    "any": ("any", "cualquiera"),
    "count": ("Leads", "Clientes"),
    "team": ("Team", "Equipo"),
    "agent": ("Agent", "Agente"),
    "accept_sla": ("Accepted within SLA", "Aceptados dentro del plazo"),
    "reply_sla": ("Replied within reply SLA", "Respondidos dentro del plazo"),
    "sla_note": ("Accept SLA: {ab} min in business hours, {aa} min after hours. Reply SLA: "
                 "{rb} min in business hours, {ra} min after hours.",
                 "Plazo para aceptar: {ab} min en horario laboral, {aa} min fuera de horario. "
                 "Plazo de respuesta: {rb} min en horario laboral, {ra} min fuera de horario."),
    "breaches": ("Breaches", "Incumplimientos"),
    "accept_breach": ("accept", "aceptar"),
    "reply_breach": ("reply", "respuesta"),
    "escalations": ("Escalation steps", "Pasos de escalamiento"),
    "longest": ("Longest waits for a human", "Esperas más largas por un humano"),
    "none": ("none", "ninguno"),
    "rotate": ("The last 30 days: turn the phone or see the charts below.",
               "Últimos 30 días: gire el teléfono o vea los gráficos abajo."),
    "show_all": ("Show all", "Ver todos"),
    "offers": ("Offers", "Ofertas"),
    "accept_p50": ("Accept p50", "Aceptar p50"),
    "accept_p90": ("Accept p90", "Aceptar p90"),
    "never_accepted": ("Never accepted", "Nunca aceptados"),
    "reassigned_away": ("Reassigned away", "Reasignados"),
    "open_cap": ("Open / cap", "Abiertos / tope"),
    "won": ("Won", "Ganados"),
    "lost": ("Lost", "Perdidos"),
    "csat": ("CSAT", "CSAT"),
    "inbound": ("Inbound", "Entrantes"),
    "qualified": ("Qualified", "Calificados"),
    "handed_off": ("Handed off", "Derivados"),
    "accepted": ("Accepted", "Aceptados"),
    "appointment": ("Appointment", "Cita"),
    "st_new": ("new", "nuevo"),
    "st_qualifying": ("qualifying", "calificando"),
    "st_waiting": ("waiting for agent", "esperando agente"),
    "st_with_agent": ("with agent", "con agente"),
    "st_escalated": ("escalated", "escalado"),
    "st_closed": ("closed", "cerrado"),
    "st_opted_out": ("opted out", "dado de baja"),
    "live": ("live", "en vivo"),
    "timeline": ("Timeline", "Cronología"),
    "attachments": ("Attachments", "Archivos adjuntos"),
    "qualification": ("Qualification", "Calificación"),
    "score": ("Score", "Puntaje"),
    "assignments": ("Assignment history", "Historial de asignaciones"),
    "rule": ("Rule", "Regla"),
    "offered": ("Offered", "Ofrecido"),
    "decided": ("Decided", "Decidido"),
    "consent": ("Consent and opt-out", "Consentimiento y baja"),
    "opted_out_at": ("Opted out at", "Dado de baja el"),
    "not_opted_out": ("Not opted out.", "No se ha dado de baja."),
    "not_understood": ("not understood", "no entendido"),
    "read_only": ("Read-only link for the agent; it expires.",
                  "Enlace de solo lectura para el agente; caduca."),
    "low_conf": ("Messages below the confidence threshold, by intent",
                 "Mensajes bajo el umbral de confianza, por intención"),
    "copy_yaml": ("Copy as nlu_data YAML", "Copiar como YAML de nlu_data"),
    "copied": ("Copied", "Copiado"),
    "outbox": ("Outbox (dry_run: no provider credentials, nothing left the machine)",
               "Salida (dry_run: sin credenciales, nada salió del equipo)"),
    "failures": ("Failures by error code", "Fallos por código de error"),
    "segments": ("SMS segments sent, by language", "Segmentos SMS enviados, por idioma"),
    "from": ("From", "Desde"),
    "to": ("To", "Hasta"),
    "download": ("Download", "Descargar"),
    "text": ("Text", "Texto"),
    "time": ("Time", "Hora"),
    "who": ("Who", "Quién"),
    "event": ("Event", "Evento"),
    "intent": ("Intent", "Intención"),
    "confidence": ("Confidence", "Confianza"),
    "code": ("Code", "Código"),
    "messages": ("Messages", "Mensajes"),
    "when": ("When", "Cuándo"),
    "step": ("Step", "Paso"),
    "times_in": ("Times in {zone} (the office's zone)",
                 "Horas en {zone} (la zona de la oficina)"),
    "crm": ("CRM", "CRM"),
    "crm_by_status": ("CRM deliveries by endpoint and status",
                      "Envíos al CRM por destino y estado"),
    "crm_dead": ("Dead letters (given up: re-send once the CRM is fixed)",
                 "Envíos abandonados (reenvíe cuando el CRM funcione)"),
    "endpoint": ("Endpoint", "Destino"),
    "pending": ("Pending", "Pendientes"),
    "delivered": ("Delivered", "Entregados"),
    "dead": ("Dead", "Abandonados"),
    "attempts": ("Attempts", "Intentos"),
    "last_error": ("Last error", "Último error"),
    "resend": ("Re-send", "Reenviar"),
    "resent": ("Delivery #{id} is queued again.", "El envío #{id} está en cola otra vez."),
    "still_pending": ("Delivery #{id} is still pending.", "El envío #{id} sigue pendiente."),
    "followup": ("Follow-up", "Seguimiento"),
    "sequences": ("Silent-lead sequences running now",
                  "Secuencias en curso para clientes en silencio"),
    "due": ("Due", "Vence"),
    "checkin": ("cold-lead check-in", "contacto a cliente frío"),
    "followup_events": ("Recent follow-up events", "Eventos recientes de seguimiento"),
    "fu_sent": ("sent", "enviado"),
    "fu_held": ("held (quiet hours)", "retenido (horario de silencio)"),
    "fu_stopped": ("stopped", "detenido"),
    "fu_refused": ("refused", "rechazado"),
    "fu_skipped": ("skipped", "omitido"),
    "reason": ("Reason", "Motivo"),
    "appointments": ("Upcoming appointments", "Próximas citas"),
    "starts": ("Starts", "Empieza"),
    "ap_scheduled": ("scheduled", "agendada"),
    "ap_confirmed": ("confirmed", "confirmada"),
    "ap_reschedule": ("asks to reschedule", "pide otro horario"),
    "ap_cancelled": ("cancelled", "cancelada"),
    "feedback": ("Feedback answers", "Respuestas de satisfacción"),
    "kind": ("Kind", "Tipo"),
    "asked": ("Asked", "Preguntado"),
    "answered": ("Answered", "Respondido"),
    "no_answer_yet": ("no answer yet", "sin respuesta"),
}


def pick_language(request: web.Request) -> str:
    """The UI language for this request (see the module docstring)."""
    asked = request.query.get("lang", "")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGS:
        return cookie
    return accept_language(request.headers.get("Accept-Language", ""))


def accept_language(header: str) -> str:
    """The best of our languages in an Accept-Language header ("es-MX,es;q=0.9,en;q=0.5")."""
    best, best_q = "en", -1.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower()[:2]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in LANGS and q > best_q:
            best, best_q = lang, q
    return best


def translator(lang: str) -> Callable[..., str]:
    """`t(key, **values)` for templates; an unknown key shows itself (easy to spot)."""
    index = 1 if lang == "es" else 0

    def t(key: str, **values: object) -> str:
        pair = _STRINGS.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t


def remember(request: web.Request, response: web.StreamResponse) -> None:
    """Keep an explicit `?lang=` choice in a cookie."""
    asked = request.query.get("lang", "")
    if asked in LANGS:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="Lax",
                            httponly=True)
