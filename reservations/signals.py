"""Signals the reservations app sends, for the apps built on it (which import it, never the
other way)."""

from django.dispatch import Signal

# Sent by `seed_demo` just before it deletes the demo users' sessions, with `users`: the demo
# users whose sessions go. An app whose rows point at those sessions (a weekly series' occurrences)
# deletes its own demo rows in a receiver, so the deletion is not refused.
demo_reset = Signal()
