"""The run's own clock in its outputs, told apart from dates that are results.

``print(datetime.now())``, ``Last executed: 2024-01-28, 17:45:12`` or the mtime of a file the
notebook just wrote (``!ls -l models/``) differ on every run and say nothing about results.
``peak on 2024-01-28`` is a result.  Both look the same, so a date or time is noise only where
it is the clock of the run that printed it: the new text's clock lies inside the verify run's
window, the old text's inside the recorded run's window (or, when that is unknown: a notebook
never recorded with us, any earlier time), and the two sit at the same place in their texts.

This needs both texts and both windows, so it runs only when comparing (``compare_texts``),
never when digesting an output in the kernel.  Naive times are read as local time or UTC.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rules import RunWindows

Window = tuple[float, float]

SLACK_S = 2.0  # file-system timestamps lag the wall clock a little; windows are rounded
MAX_LINES = 20_000  # beyond this only equal-length texts are paired (line by line)
CLOCK_MASK = "<CLOCK>"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MON = "|".join(_MONTHS)
_DAY = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"

# One regex, one named alternative per format; the first group that matched names the kind.
CLOCK = re.compile(
    # ISO and friends: 2024-01-28 17:45:12.123, 2024-01-28T17:45:12Z, 2018-06-01, 12:33:15, logging's ",123"
    rf"(?P<iso>(?<![\w.-])(?P<iy>(?:19|20)\d\d)-(?P<imo>[01]\d)-(?P<id>[0-3]\d)(?:T| |, )"
    r"(?P<iH>[0-2]\d):(?P<iM>[0-5]\d)(?::(?P<iS>[0-5]\d)(?:[.,](?P<if>\d{1,9}))?)?"
    r"(?P<itz>Z|[+-][01]\d:?[0-5]\d)?(?![\w:]))"
    # repr(datetime.now())
    r"|(?P<repr>datetime\.datetime\((?P<ry>\d{4}), (?P<rmo>\d{1,2}), (?P<rd>\d{1,2})"
    r"(?:, (?P<rH>\d{1,2}))?(?:, (?P<rM>\d{1,2}))?(?:, (?P<rS>\d{1,2}))?(?:, (?P<rf>\d{1,6}))?"
    r"(?:, tzinfo=(?P<rtz>[\w.]+(?:\([^()\n]{0,80}(?:\([^()\n]{0,80}\))?\))?))?\))"
    # time.ctime() / date(1): Sun Jan 28 17:45:12 2024, Sun Jan 28 17:45:12 UTC 2024
    rf"|(?P<ctime>(?:{_DAY}),? (?P<cmo>{_MON}) +(?P<cd>\d{{1,2}}) (?P<cH>[0-2]\d):(?P<cM>[0-5]\d):"
    r"(?P<cS>[0-5]\d)(?: (?P<ctz>[A-Z]{2,5}))? (?P<cy>\d{4})(?!\d))"
    # ls -l / syslog, no year: Nov 30 17:45, Jan  2 09:01:33
    rf"|(?P<ls>(?<!\w)(?P<lmo>{_MON}) +(?P<ld>\d{{1,2}}) +(?P<lH>[0-2]\d):(?P<lM>[0-5]\d)"
    r"(?::(?P<lS>[0-5]\d))?(?![\d:]))"
    # a date alone: 2024-01-28
    r"|(?P<date>(?<![\w.-])(?P<dy>(?:19|20)\d\d)-(?P<dmo>[01]\d)-(?P<dd>[0-3]\d)(?![\w-]))"
    # a time of day alone, with seconds: 17:45:12, 17:45:12.5
    r"|(?P<time>(?<![\w.:])(?P<tH>[0-2]\d):(?P<tM>[0-5]\d):(?P<tS>[0-5]\d)(?:[.,](?P<tf>\d{1,9}))?(?![\w:]))"
)
_KINDS = ("iso", "repr", "ctime", "ls", "date", "time")
# every clock above contains one of these; a pattern that starts with a digit class is found fast
_HINT = re.compile(r"\d\d[:-]\d\d|datetime\.datetime\(")

# `ls -l` / `ls -lh` / `ls -l --time-style=long-iso` line: mode, links, [owner [group]], size, mtime, name
LS_LINE = re.compile(
    r"^(?P<mode>[-dlbcps][-rwxsStT]{9}[.+@]?) +(?P<links>\d+) +(?P<who>(?:\S+ +){0,2}?)"
    r"(?P<size>\d+(?:[.,]\d+)?[KMGTPE]?) +"
    rf"(?P<when>(?:{_MON}) +\d{{1,2}} +(?:\d\d:\d\d|\d{{4}})|\d{{4}}-\d\d-\d\d \d\d:\d\d(?::\d\d(?:\.\d+)?)?"
    r"(?: [+-]\d{4})?) (?P<name>.+)$"
)
LS_TOTAL = re.compile(r"^total \d+(?:[.,]\d+)?[KMGTPE]?$")


@dataclass(frozen=True)
class Masked:
    """Both texts after ``mask_run_clocks``, with how many clock pairs and
    ``ls -l`` lines it masked (the report names these as noise found)."""

    old: str
    new: str
    clocks: int  # pairs of clocks masked
    listings: int  # ls lines of files the run wrote (owner, maybe size, went with their mtime)


def _kind(match: re.Match[str]) -> str:
    return next(k for k in _KINDS if match.group(k) is not None)


def _int(match: re.Match[str], name: str, default: int = 0) -> int:
    value = match.group(name)
    return int(value) if value else default


def _micro(fraction: str | None) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def _zone(text: str | None) -> timezone | None:
    """A fixed offset the text names (``Z``, ``+01:00``, ``timezone.utc``), else None (naive)."""
    if not text:
        return None
    if text in ("Z", "UTC", "GMT") or text.endswith("timezone.utc") or "'UTC'" in text:
        return timezone.utc
    if m := re.fullmatch(r"([+-])(\d\d):?(\d\d)", text):
        offset = timedelta(hours=int(m[2]), minutes=int(m[3]))
        return timezone(-offset if m[1] == "-" else offset)
    return None  # a named zone: read like a naive time


def _span(moment: datetime, unit_s: float, zone: timezone | None) -> list[Window]:
    """[start, end) of what the text can mean, under each reading of its time zone."""
    zones = [zone] if zone is not None else [None, timezone.utc]  # None: the local zone
    spans = []
    for z in zones:
        try:
            start = moment.replace(tzinfo=z).timestamp() if z else moment.timestamp()
        except (OverflowError, OSError, ValueError):
            continue
        spans.append((start, start + unit_s))
    return spans


def _days(window: Window) -> Iterator[date]:
    """Every calendar day (local or UTC) the window touches."""
    seen: set[date] = set()
    for stamp in (window[0] - SLACK_S, window[1] + SLACK_S):
        for moment in (datetime.fromtimestamp(stamp), datetime.fromtimestamp(stamp, timezone.utc)):
            seen.add(moment.date())
    first, last = min(seen), max(seen)
    while first <= last:
        yield first
        first += timedelta(days=1)


def _moments(match: re.Match[str], window: Window) -> list[Window]:
    """Every [start, end) the clock can denote near ``window`` (years and days guessed from it)."""
    kind = _kind(match)
    try:
        if kind in ("iso", "repr", "ctime", "date"):
            p = {"iso": "i", "repr": "r", "ctime": "c", "date": "d"}[kind]
            year = _int(match, f"{p}y")
            month = _MONTHS.index(match.group("cmo")) + 1 if kind == "ctime" else _int(match, f"{p}mo")
            day = _int(match, f"{p}d")
            if kind == "date":
                return _span(datetime(year, month, day), 86400.0, None)
            hour, minute = _int(match, f"{p}H"), _int(match, f"{p}M")
            has_seconds = match.group(f"{p}S") is not None
            fraction = match.group("if") if kind == "iso" else None
            micro = int(match.group("rf") or 0) if kind == "repr" else _micro(fraction)
            moment = datetime(year, month, day, hour, minute, _int(match, f"{p}S"), micro)
            if kind == "repr" and match.group("rH") is None:
                return _span(moment, 86400.0, None)
            unit = 1.0 if has_seconds or kind == "repr" else 60.0
            if fraction:
                unit = 10.0 ** -min(len(fraction), 6)
            zone = _zone(match.group("itz") if kind == "iso" else match.group(f"{p}tz"))
            return _span(moment, unit, zone)
        if kind == "ls":
            month, day = _MONTHS.index(match.group("lmo")) + 1, _int(match, "ld")
            hour, minute = _int(match, "lH"), _int(match, "lM")
            unit = 1.0 if match.group("lS") else 60.0
            years = {d.year for d in _days(window)}
            spans: list[Window] = []
            for year in years | {y - 1 for y in years}:
                try:
                    moment = datetime(year, month, day, hour, minute, _int(match, "lS"))
                except ValueError:  # Feb 29 of another year
                    continue
                spans += _span(moment, unit, None)
            return spans
        # a time of day: on any day the window touches
        clock = dtime(_int(match, "tH"), _int(match, "tM"), _int(match, "tS"), _micro(match.group("tf")))
        unit = 10.0 ** -min(len(match.group("tf")), 6) if match.group("tf") else 1.0
        spans = []
        for on_day in _days(window):
            spans += _span(datetime.combine(on_day, clock), unit, None)
        return spans
    except ValueError:  # not a real date (month 13, hour 25): not a clock
        return []


def in_window(match: re.Match[str], window: Window) -> bool:
    """The clock can denote a moment inside ``window`` (give or take ``SLACK_S``)."""
    low, high = window[0] - SLACK_S, window[1] + SLACK_S
    return any(start < high and end > low for start, end in _moments(match, window))


def before(match: re.Match[str], moment: float) -> bool:
    """The clock can denote a moment before ``moment``: an unrecorded notebook's old run."""
    window = (moment - 86400.0, moment)  # a time of day alone: yesterday's counts too
    return any(start < moment + SLACK_S for start, _end in _moments(match, window))


def _own_clock_pair(old: re.Match[str], new: re.Match[str], windows: RunWindows) -> bool:
    if windows.new is None or _kind(old) != _kind(new) or not in_window(new, windows.new):
        return False
    if windows.old is not None:
        return in_window(old, windows.old)
    return before(old, windows.new[0])


def _mask_spans(line: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        line = line[:start] + CLOCK_MASK + line[end:]
    return line


def _listing(line: str, mtime: tuple[int, int], keep_size: bool) -> str | None:
    """An ``ls -l`` line whose mtime is ``mtime``: owner (and size unless kept) masked with it."""
    m = LS_LINE.match(line)
    if m is None or not (m.start("when") <= mtime[0] and mtime[1] <= m.end("when")):
        return None
    size = m["size"] if keep_size else "<SIZE>"
    return f"{m['mode']} {m['links']} <OWNER> {size} {CLOCK_MASK} {m['name']}"


def _line_pairs(old_lines: list[str], new_lines: list[str]) -> Iterator[tuple[int, int]]:
    """Which old line each new line stands for: positional, or aligned with clocks blanked."""
    if len(old_lines) == len(new_lines):
        yield from ((i, i) for i in range(len(new_lines)))
        return
    if max(len(old_lines), len(new_lines)) > MAX_LINES:
        return

    def key(line: str) -> str:
        return CLOCK.sub(lambda m: f"<{_kind(m)}>", line) if _HINT.search(line) else line

    matcher = difflib.SequenceMatcher(None, [key(x) for x in old_lines], [key(x) for x in new_lines], False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            yield from zip(range(i1, i2), range(j1, j2), strict=True)


def mask_run_clocks(old: str, new: str, windows: RunWindows) -> Masked:
    """Both texts with each positionally paired own-run clock replaced by ``<CLOCK>``.

    A listing line (``ls -l``) whose mtime is such a clock (a file the run wrote) also loses its
    owner.  Its size is compared when both runs are known (recorded with us): in one environment
    the files a seeded run writes have the same bytes (mrd_01_workflow's ``models/*.pth``: equal
    sha256 over two runs), so a size change is a changed result.  Against stored outputs of
    unknown provenance (``windows.old`` is None) the size goes too, and a ``total`` line with it
    when every listing line of the text was the run's own file.
    """
    keep_size = windows.old is not None
    if windows.new is None or _HINT.search(new) is None or _HINT.search(old) is None:
        return Masked(old, new, 0, 0)
    old_lines, new_lines = old.split("\n"), new.split("\n")
    clocks = listings = 0
    totals: list[tuple[int, int]] = []
    for i, j in _line_pairs(old_lines, new_lines):
        a, b = old_lines[i], new_lines[j]
        if a != b and LS_TOTAL.match(a) and LS_TOTAL.match(b):
            totals.append((i, j))
            continue
        if a == b or not _HINT.search(b):
            continue
        clocks_a, clocks_b = list(CLOCK.finditer(a)), list(CLOCK.finditer(b))
        if not clocks_b or len(clocks_a) != len(clocks_b):
            continue
        pairs = [
            (x.span(), y.span())
            for x, y in zip(clocks_a, clocks_b, strict=True)
            if _own_clock_pair(x, y, windows)
        ]
        if not pairs:
            continue
        clocks += len(pairs)
        listed_a, listed_b = _listing(a, pairs[0][0], keep_size), _listing(b, pairs[0][1], keep_size)
        if listed_a is not None and listed_b is not None and len(pairs) == 1:
            old_lines[i], new_lines[j] = listed_a, listed_b
            listings += 1
            continue
        old_lines[i] = _mask_spans(a, [p[0] for p in pairs])
        new_lines[j] = _mask_spans(b, [p[1] for p in pairs])
    listed_new = sum(1 for line in new_lines if LS_LINE.match(line))
    if listings and totals and listed_new == 0 and not keep_size:  # all listed files are the run's
        for i, j in totals:
            old_lines[i], new_lines[j] = "total <SIZE>", "total <SIZE>"
    if not clocks:
        return Masked(old, new, 0, 0)
    return Masked("\n".join(old_lines), "\n".join(new_lines), clocks, listings)


def mask_own_clocks(text: str, window: Window | None) -> str:
    """One text with every clock inside ``window`` masked: for a digest taken while the run is on.

    The kernel knows when the cell started and that it is still running, so a clock it prints
    falls in (start, now); masking it there keeps a cell's output digest the same across runs
    (cleared outputs are checked against digests).  An ``ls -l`` line whose mtime is in the
    window loses its owner too; its size stays (as in ``mask_run_clocks`` for recorded runs).
    """
    if window is None or _HINT.search(text) is None:
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not _HINT.search(line):
            continue
        own = [m.span() for m in CLOCK.finditer(line) if in_window(m, window)]
        if not own:
            continue
        listed = _listing(line, own[0], keep_size=True) if len(own) == 1 else None
        lines[index] = listed if listed is not None else _mask_spans(line, own)
    return "\n".join(lines)
