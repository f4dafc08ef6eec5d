"""Prometheus metrics (`GET /metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INBOUND = Counter("pronto_inbound_total", "Inbound webhooks accepted", ["channel"])
REJECTED = Counter("pronto_webhook_rejected_total", "Webhooks refused", ["channel", "reason"])
OUTBOUND = Counter("pronto_outbound_total", "Outbound sends by final status", ["channel", "status"])
DUPLICATES = Counter("pronto_duplicates_total", "Redelivered messages dropped", ["channel"])
BOT_LATENCY = Histogram(
    "pronto_bot_seconds", "Rasa round trip", buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
)
FIRST_REPLY = Histogram(
    "pronto_first_reply_seconds",
    "Webhook received to first outbound send",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10),
)
ACKS = Counter("pronto_ack_sent_total", "Instant acknowledgements sent because Rasa was slow/down")
QUEUE_DEPTH = Gauge("pronto_queue_depth", "Unacknowledged queue entries")
TIMERS_FIRED = Counter("pronto_timers_fired_total", "Timers fired", ["kind"])
INTAKE = Counter("pronto_intake_total", "Leads delivered by intake", ["kind", "result"])
FIRST_TOUCH = Counter("pronto_first_touch_total", "First touches texted by Pronto", ["kind"])
FIRST_TOUCH_LATENCY = Histogram(
    "pronto_first_touch_seconds",
    "Intake (form, lead email, missed call) to the first text queued",
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30),
)
