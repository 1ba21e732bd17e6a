"""The smallest set of put-back distributions that makes the drift go away, by halves.

``fixes(S)`` runs one trial with the distributions ``S`` put back and says whether the cell
then reproduces.  Known: ``fixes(all)`` and not ``fixes({})`` (the verify run).  Each level
tries the first half; when it does not fix, the search goes into the second half *without*
a trial (one cause is the common case) and the single distribution it ends at is confirmed
by its own trial.  So one cause among 8 costs at most 1 + 3 + 1 = 5 trials.  When a
confirmation fails, the causes interact: both halves are narrowed with the other put back
(delta debugging's two-sided search), so the answer is still a set proven by a trial.
The number of trials is bounded (``--max-trials``); when it runs out, the smallest set
proven so far is the answer and the report says the search stopped.

``fixes(S, final)``: ``final`` marks the trials whose answer is the result (everything put back,
the single distribution a search ends at); the others only steer, and the caller may run them
the cheap way (``explain.shortcut``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


class OutOfTrials(Exception):
    """The trial budget is spent; ``Bisection.run`` catches it
    and answers with the smallest fixing set proven so far."""

    pass


class Bisection:
    """Delta-debugging search for the smallest set of put-back distributions that fixes a
    drift, within a budget of trials; ``exhausted`` says whether the budget ran out."""

    def __init__(self, fixes: Callable[[tuple[str, ...], bool], bool | None], budget: int) -> None:
        self._fixes = fixes
        self.budget = budget
        self.tried: dict[frozenset[str], bool] = {}
        self.smallest: tuple[str, ...] | None = None  # the smallest set a trial showed to fix
        self.exhausted = False

    def test(self, subset: Sequence[str], final: bool = False) -> bool:
        """Whether putting back ``subset`` fixes the drift, running a trial only for a set not tried
        yet; an unverified trial counts as "does not fix"; OutOfTrials when the budget is spent."""
        key = frozenset(subset)
        if key in self.tried:
            return self.tried[key]
        if len(self.tried) >= self.budget:
            raise OutOfTrials
        result = bool(self._fixes(tuple(subset), final))  # None (unverified) counts as "does not fix"
        self.tried[key] = result
        if result and (self.smallest is None or len(subset) < len(self.smallest)):
            self.smallest = tuple(subset)
        return result

    def run(self, candidates: Sequence[str]) -> tuple[str, ...] | None:
        """None when putting back everything does not fix; else the smallest fixing set found."""
        try:
            if not self.test(candidates, final=True):
                return None
            found = self._minimize(tuple(candidates), (), known=True)
            if found is not None:
                return found
        except OutOfTrials:
            self.exhausted = True
        return self.smallest

    def _minimize(
        self, cands: tuple[str, ...], fixed: tuple[str, ...], known: bool
    ) -> tuple[str, ...] | None:
        """A small subset ``s`` of ``cands`` with ``fixes(fixed + s)``; ``known``: ``fixes(fixed +
        cands)`` was seen.  None when ``known`` was only assumed and turned out false."""
        if len(cands) == 1:
            if not known and not self.test(fixed + cands, final=True):
                return None
            return cands
        half = len(cands) // 2
        first, second = cands[:half], cands[half:]
        if self.test(fixed + first):
            return self._minimize(first, fixed, known=True)
        found = self._minimize(second, fixed, known=False)
        if found is not None:
            return found
        if not known and not self.test(fixed + cands):
            return None
        # neither half alone: each is needed; narrow one with the other put back, then the other
        part_a = self._minimize(first, fixed + second, known=True)
        part_b = self._minimize(second, fixed + (part_a or first), known=True)
        if part_a is None or part_b is None:
            return None
        return part_a + part_b
