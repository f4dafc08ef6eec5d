"""Prometheus metrics (`GET /metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INBOUND = Counter("pronto_inbound_total", "Inbound webhooks accepted", ["channel"])
REJECTED = Counter("pronto_webhook_rejected_total", "Webhooks refused", ["channel", "reason"])
OUTBOUND = Counter("pronto_outbound_total", "Outbound sends by final status", ["channel", "status"])
RATE_CAPPED = Counter(
    "pronto_rate_capped_total", "Messages to a lead refused by the per-lead hourly cap", ["channel"]
)
DUPLICATES = Counter("pronto_duplicates_total", "Redelivered messages dropped", ["channel"])
EARLY_STATUSES = Counter(
    "pronto_early_status_callbacks_total",
    "Delivery status callbacks that came before their message's row: kept, applied later, "
    "expired unmatched, or dropped (too many kept)", ["outcome"])
BOT_LATENCY = Histogram(
    "pronto_bot_seconds", "Rasa round trip", buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
)
FIRST_REPLY = Histogram(
    "pronto_first_reply_seconds",
    "Webhook received to first outbound send",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10),
)
ACKS = Counter("pronto_ack_sent_total", "Instant acknowledgements sent because Rasa was slow/down")
LANE_ACKS = Counter("pronto_ack_lane_sent_total",
                    "Acknowledgements the acknowledgement lane sent (a backlog in front of Rasa)")
QUEUE_DEPTH = Gauge("pronto_queue_depth", "Unacknowledged queue entries")
TIMERS_FIRED = Counter("pronto_timers_fired_total", "Timers fired", ["kind"])
INTAKE = Counter("pronto_intake_total", "Leads delivered by intake", ["kind", "result"])
FIRST_TOUCH = Counter("pronto_first_touch_total", "First touches texted by Pronto", ["kind"])
FIRST_TOUCH_LATENCY = Histogram(
    "pronto_first_touch_seconds",
    "Intake (form, lead email, missed call) to the first text queued",
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30),
)
# -- the broker's view (issue 15): webhook latency, human first reply, timers, escalations,
# opt-outs. Appended: other metrics above keep their order.
WEBHOOK_LATENCY = Histogram(
    "pronto_webhook_seconds",
    "Time to answer a provider webhook (verify, parse, queue), by channel and kind",
    ["channel", "kind"],
    # 15 and 20 ms: the answer target under load is 20 ms at p99 (issue 12), so a bucket bound
    # says whether it holds, not only that it fell somewhere under 25.
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
HUMAN_FIRST_REPLY = Histogram(
    "pronto_human_first_reply_seconds",
    "A lead's first message to the first reply an agent wrote (never the bot's)",
    buckets=(30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400),
)
TIMERS_PENDING = Gauge(
    "pronto_timers_pending", "Durable timers waiting to fire (SQL, read at scrape time)", ["kind"]
)
ESCALATIONS = Counter(
    "pronto_escalations_total", "Escalation steps taken (committed), by step", ["step"]
)
WAITING_OUTAGE = Gauge(
    "pronto_events_waiting_outage", "Queue events waiting for SQL or Redis to come back"
)
STALLS_RESUMED = Counter(
    "pronto_stalls_resumed_total", "Leads whose message waited for the bot with no next step"
)
OPT_OUTS = Counter(
    "pronto_opt_outs_total", "Leads opted out (committed), by how", ["reason"]
)
