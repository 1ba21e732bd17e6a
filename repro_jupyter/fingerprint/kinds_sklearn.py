"""scikit-learn estimators by value: parameters, then fitted state, minus the clock.

``get_params(deep=False)`` names what the user chose (an estimator inside a parameter, as in a Pipeline or a
search, is fingerprinted as an estimator itself); every other instance attribute is fitted state (``coef_``,
``vocabulary_``, private ones such as a KNN's ``_fit_X``).  Wall-clock fields differ in every run and are not
part of the value: ``refit_time_``, the ``*_time`` keys of ``cv_results_`` (``mean_fit_time``,
``std_score_time``, ``split0_fit_time`` ...) and any attribute named like a time.  Nor are the machine's
core count (``_n_threads``) or an object's address (``CountVectorizer._stop_words_id`` is ``id(stop_words)``;
any private ``_..._id``).
"""

from __future__ import annotations

import re
from typing import Any

from .walk import Digest, Fingerprint, Kind, Walk, loaded

KINDS: list[Kind] = []  # (predicate on the type, handler), in priority order

TIMING_ATTR = re.compile(r"(^|_)times?_?$")
TIMING_RESULT_KEY = re.compile(r"_times?$")
MACHINE_ATTRS = frozenset({"_n_threads"})
ADDRESS_ATTR = re.compile(r"^_\w*_id$")


def _is_estimator(t: type) -> bool:
    base = loaded("sklearn.base")
    return base is not None and issubclass(t, base.BaseEstimator)


def without_timings(name: str, value: Any) -> Any:
    """``cv_results_`` without its timing columns; any other attribute as it is."""
    if name == "cv_results_" and isinstance(value, dict):
        return {k: v for k, v in value.items() if not TIMING_RESULT_KEY.search(str(k))}
    return value


def _estimator(value: Any, walk: Walk) -> Fingerprint:
    d = Digest("sklearn:" + type(value).__module__ + "." + type(value).__qualname__)
    params = value.get_params(deep=False)
    for name in sorted(params):
        d.raw("param", name).add(walk.child(params[name]))
    state = getattr(value, "__dict__", {})
    for name in sorted(state):
        if name in params or name in MACHINE_ATTRS or TIMING_ATTR.search(name) or ADDRESS_ATTR.match(name):
            continue
        d.raw("state", name).add(walk.child(without_timings(name, state[name])))
    return d.result(value)


KINDS.append((_is_estimator, _estimator))
