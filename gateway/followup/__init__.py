"""Follow-up Pronto runs itself: silent leads, cold leads (sequences as data from
config/followup.yml), on the same durable timers as escalation."""
