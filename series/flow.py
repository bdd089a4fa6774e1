"""Making or moving a weekly series, step by step, as both the admin and the professional's agenda
do it: every date is shown first with what it clashes with; the person ticks each clashing date
they agree to skip; the confirmation carries the fingerprint of the dates they saw, so a plan that
changed meanwhile (someone booked a time) is shown again and nothing is saved.

The doors read their forms and render their pages; this is the one flow between the two.
"""

from dataclasses import dataclass

from . import texts
from .planning import SeriesClash, consented, plan_digest


@dataclass
class Step:
    """Where the person is: the dates they see (each with its clashes), their fingerprint, the
    dates they ticked to skip, what to tell them, and what was done once confirmed (the series
    created, or the sessions moved)."""

    plan: list
    digest: str
    ticked: set
    error: str = ""
    done: object = None

    @property
    def clashing(self):
        """The dates a person must tick to skip (a day the practice is closed is skipped
        anyway)."""
        return [p for p in self.plan if p.asks]


def ticked(data):
    """The dates (indexes) the person ticked to skip; anything else is ignored."""
    return {int(value) for value in data.getlist("skip") if value.isdigit()}


def step(data, plan, commit, *, confirming):
    """One step of the flow. `plan` is every date as it is now; `confirming`: the person pressed
    the button that saves. Then the dates must be those they saw (`digest` in `data`), each
    clashing date ticked (`skip` in `data`), and `commit(skip)` does it, or raises SeriesClash
    when the database finds what the plan did not (a booking written meanwhile)."""
    seen = data.get("digest", "")
    digest = plan_digest(plan)
    # Ticks count only for the dates they were given for.
    skip = ticked(data) if seen == digest else set()
    now = Step(plan=plan, digest=digest, ticked=skip)
    if not confirming:
        return now
    if seen != digest:
        now.error = texts.plan_changed()
    elif not consented(skip, plan):
        now.error = texts.not_ticked()
    else:
        try:
            now.done = commit(skip)
        except SeriesClash as exc:
            now.plan, now.digest = exc.plan, plan_digest(exc.plan)
            now.error = texts.plan_changed() if now.digest != seen else texts.not_ticked()
    return now
