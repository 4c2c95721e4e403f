"""Rules on missed calls: the run of consecutive missed calls and the proposal to the data
manager (pure: any objects with ``sequence`` and ``status`` will do)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

MISSED = "unreachable"
STILL_OPEN = "due"


class CallLike(Protocol):
    @property
    def sequence(self) -> int: ...

    @property
    def status(self) -> str: ...


C = TypeVar("C", bound=CallLike)


def missed_streak(calls: Iterable[C]) -> list[C]:
    """Return the missed calls that end the patient's settled calls, in timepoint order.

    Calls still due are not settled and are skipped; any other settled call (reached, refused...)
    ends the run, so a reached call resets it.
    """
    streak: list[C] = []
    for call in sorted(calls, key=lambda c: c.sequence):
        if call.status == STILL_OPEN:
            continue
        streak = [*streak, call] if call.status == MISSED else []
    return streak


def is_proposed(
    streak: Sequence[CallLike], *, threshold: int, dismissed_through: int | None
) -> bool:
    """Say whether a run of missed calls proposes the patient as lost to follow-up.

    ``dismissed_through`` is the order of the last missed call when a proposal was dismissed:
    only a call missed after it proposes the patient again.
    """
    if len(streak) < threshold:
        return False
    return dismissed_through is None or streak[-1].sequence > dismissed_through
