"""Dates of the Elasticsearch-compatible test server.

DESIGN: a DateFormat compiles a "fmt1||fmt2" format (named formats such as
strict_date_optional_time and epoch_millis, or Java-style patterns such as yyyy/MM/dd) into
parsers that return epoch nanoseconds or None, so one code path serves date and date_nanos
fields; formats are cached because compiling one costs more than parsing a date.
parse_date_math() adds the date math of range queries ("now-7d/d", "2020-01-01||+1M").
"""

import calendar
import datetime
import math
import re
import time

DEFAULT_DATE_FORMAT = "strict_date_optional_time||epoch_millis"
DEFAULT_NANOS_FORMAT = "strict_date_optional_time_nanos||epoch_millis"


def field_date_format(ftype, fmt=None):
    """The DateFormat of a date or date_nanos field: its "format" or the type's default."""
    return date_format(fmt or (DEFAULT_NANOS_FORMAT if ftype == "date_nanos" else DEFAULT_DATE_FORMAT))


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


_DATE_FORMATS = {}


def date_format(text):
    """A cached DateFormat (compiling a pattern costs more than parsing a date)."""
    key = "||".join(text) if isinstance(text, list) else text
    f = _DATE_FORMATS.get(key)
    if f is None:
        f = DateFormat(text)
        if len(_DATE_FORMATS) > 1000:
            _DATE_FORMATS.clear()
        _DATE_FORMATS[key] = f
    return f


class DateFormat(object):
    """A "fmt1||fmt2" date format. parse() returns epoch nanoseconds or None."""

    def __init__(self, text):
        if isinstance(text, list):
            text = "||".join(text)
        self.text = text
        self.parts = []
        self._valid = {}
        for part in text.split("||"):
            part = part.strip()
            if not part:
                raise ValueError("empty format")
            self.parts.append(_compile_format(part))

    def parse(self, v):
        for kind, fn in self.parts:
            r = fn(v)
            if r is not None:
                return r
        return None

    def valid(self, v):
        """parse(v) is not None, remembered for recently seen strings (documents repeat dates)."""
        if type(v) is not str:
            return self.parse(v) is not None
        cache = self._valid
        r = cache.get(v)
        if r is None:
            r = self.parse(v) is not None
            if len(cache) > 20000:
                cache.clear()
            cache[v] = r
        return r

    def format_millis(self, ms):
        return self.format_nanos(ms * 1000000)

    def format_nanos(self, ns):
        kind, _ = self.parts[0]
        name = self.text.split("||")[0].strip()
        if name in ("epoch_millis",):
            return str(ns // 1000000)
        if name == "epoch_second":
            return str(ns // 1000000000)
        secs, rem = divmod(ns, 1000000000)
        dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=secs)
        if kind == "pattern":
            return _format_pattern(name, dt, rem)
        frac = ("%09d" % rem)
        if name.endswith("_nanos") or "nanos" in name:
            frac = frac.rstrip("0") or "0"
            frac = frac.ljust(3, "0") if len(frac) < 3 else frac
        else:
            frac = frac[:3]
        if name in ("strict_date", "date", "year_month_day", "strict_year_month_day"):
            return dt.strftime("%Y-%m-%d")
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac + "Z"


_NAMED = {
    "strict_date_optional_time": True, "date_optional_time": False,
    "strict_date_optional_time_nanos": True, "strict_date_time": True, "date_time": False,
    "strict_date_time_no_millis": True, "date_time_no_millis": False,
    "strict_date": True, "date": False, "strict_year_month_day": True, "year_month_day": False,
    "strict_date_hour_minute_second": True, "date_hour_minute_second": False,
    "strict_date_hour_minute_second_millis": True, "date_hour_minute_second_millis": False,
    "strict_date_hour_minute_second_fraction": True, "date_hour_minute_second_fraction": False,
    "strict_date_hour_minute": True, "date_hour_minute": False,
    "strict_year": True, "year": False, "strict_year_month": True, "year_month": False,
    "basic_date": True, "basic_date_time": True, "basic_date_time_no_millis": True,
    "iso8601": False,
}

_ISO_STRICT = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<M>\d{2})(?:-(?P<d>\d{2})(?:T(?P<H>\d{2})(?::(?P<m>\d{2})(?::(?P<s>\d{2})"
    r"(?:[.,](?P<f>\d{1,9}))?)?)?(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$")
_ISO_LOOSE = re.compile(
    r"^(?P<y>[+-]?\d{1,9})(?:-(?P<M>\d{1,2})(?:-(?P<d>\d{1,2})(?:T(?P<H>\d{1,2})(?::(?P<m>\d{1,2})(?::(?P<s>\d{1,2})"
    r"(?:[.,](?P<f>\d{1,9}))?)?)?(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$")
_BASIC = re.compile(r"^(?P<y>\d{4})(?P<M>\d{2})(?P<d>\d{2})(?:T(?P<H>\d{2})(?P<m>\d{2})(?P<s>\d{2})"
                    r"(?:\.(?P<f>\d{1,9}))?(?P<z>Z|[+-]\d{2}:?\d{2}))?$")


def _compile_format(name):
    if name == "epoch_millis":
        return ("epoch", lambda v: _epoch(v, 1000000))
    if name == "epoch_second":
        return ("epoch", lambda v: _epoch(v, 1000000000))
    if name in _NAMED:
        strict = _NAMED[name]
        rx = _BASIC if name.startswith("basic_") else (_ISO_STRICT if strict else _ISO_LOOSE)
        need_time = name in ("strict_date_time", "date_time", "strict_date_time_no_millis",
                             "date_time_no_millis", "basic_date_time", "basic_date_time_no_millis",
                             "strict_date_hour_minute_second", "date_hour_minute_second",
                             "strict_date_hour_minute_second_millis", "date_hour_minute_second_millis",
                             "strict_date_hour_minute_second_fraction", "strict_date_hour_minute",
                             "date_hour_minute")
        date_only = name in ("strict_date", "date", "strict_year_month_day", "year_month_day",
                             "basic_date")
        year_only = name in ("strict_year", "year")
        year_month = name in ("strict_year_month", "year_month")

        def parse_named(v, rx=rx, need_time=need_time, date_only=date_only, year_only=year_only,
                        year_month=year_month):
            if not isinstance(v, str):
                return None
            m = rx.match(v)
            if not m:
                return None
            g = m.groupdict()
            if need_time and g.get("H") is None:
                return None
            if date_only and (g.get("d") is None or g.get("H") is not None):
                return None
            if year_only and g.get("M") is not None:
                return None
            if year_month and (g.get("M") is None or g.get("d") is not None):
                return None
            return _to_nanos(g)
        return ("named", parse_named)
    rx, fields = _pattern_regex(name)

    def parse_pattern(v, rx=rx):
        if not isinstance(v, str):
            return None
        m = rx.match(v)
        if not m:
            return None
        return _to_nanos(m.groupdict())
    return ("pattern", parse_pattern)


def _epoch(v, mult):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return int(v * mult)
    if isinstance(v, str) and re.match(r"^-?\d+(\.\d+)?$", v.strip()):
        s = v.strip()
        if "." in s:
            whole, frac = s.split(".")
            n = int(whole) * mult
            fr = int(frac.ljust(9, "0")[:9]) * mult // 1000000000
            return n + (fr if not whole.startswith("-") else -fr)
        return int(s) * mult
    return None


def _to_nanos(g):
    try:
        y = int(g.get("y") or 1970)
        if g.get("yy") is not None:
            y = 2000 + int(g["yy"])
        mo = g.get("M")
        if mo is not None and not mo.isdigit():
            mo = _MONTHS.index(mo[:3].lower()) + 1
        mo = int(mo or 1)
        d = int(g.get("d") or 1)
        h = int(g.get("H") or 0)
        if g.get("h") is not None:
            h = int(g["h"]) % 12 + (12 if (g.get("a") or "").upper() == "PM" else 0)
        mi = int(g.get("m") or 0)
        s = int(g.get("s") or 0)
        f = g.get("f") or ""
        if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60):
            return None
        if d > calendar.monthrange(y if 1 <= y <= 9999 else 2000, mo)[1]:
            return None
        if 1 <= y <= 9999:
            secs = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
        else:
            secs = int((datetime.datetime(2000, mo, d, h, mi, s) - datetime.datetime(1970, 1, 1))
                       .total_seconds()) + int((y - 2000) * 365.2425 * 86400)
        nanos = int(f.ljust(9, "0")[:9]) if f else 0
        z = g.get("z")
        if z and z not in ("Z", "z"):
            sign = -1 if z[0] == "-" else 1
            zz = z[1:].replace(":", "")
            off = int(zz[:2]) * 3600 + (int(zz[2:4]) * 60 if len(zz) >= 4 else 0)
            secs -= sign * off
        return secs * 1000000000 + nanos
    except (ValueError, OverflowError, IndexError):
        return None


_PATTERN_TOKEN = re.compile(r"'[^']*'|([a-zA-Z])\1*|.", re.S)


def _pattern_regex(pattern):
    out = []
    fields = []
    for m in _PATTERN_TOKEN.finditer(pattern):
        tok = m.group(0)
        if tok.startswith("'"):
            out.append(re.escape(tok[1:-1]) if len(tok) > 2 else "'")
            continue
        c = tok[0]
        n = len(tok)
        if c in "yu":
            out.append(r"(?P<yy>\d{2})" if n == 2 else r"(?P<y>\d{4})" if n == 4 else r"(?P<y>[+-]?\d{1,9})")
        elif c == "M" or c == "L":
            if n >= 3:
                out.append(r"(?P<M>[A-Za-z]{3,9})")
            else:
                out.append(r"(?P<M>\d{2})" if n == 2 else r"(?P<M>\d{1,2})")
        elif c == "d":
            out.append(r"(?P<d>\d{2})" if n == 2 else r"(?P<d>\d{1,2})")
        elif c == "H":
            out.append(r"(?P<H>\d{2})" if n == 2 else r"(?P<H>\d{1,2})")
        elif c in "hK":
            out.append(r"(?P<h>\d{1,2})")
        elif c == "m":
            out.append(r"(?P<m>\d{2})" if n == 2 else r"(?P<m>\d{1,2})")
        elif c == "s":
            out.append(r"(?P<s>\d{2})" if n == 2 else r"(?P<s>\d{1,2})")
        elif c in "Sn":
            out.append(r"(?P<f>\d{%d})" % n)
        elif c in "ZXxO":
            out.append(r"(?P<z>Z|[+-]\d{2}:?\d{2}|[+-]\d{2})")
        elif c == "a":
            out.append(r"(?P<a>AM|PM|am|pm)")
        elif c == "E":
            out.append(r"[A-Za-z]{3,9}")
        elif c == "T":
            out.append("T")
        elif c.isalpha():
            raise ValueError("Unknown pattern letter: %s" % c)
        else:
            out.append(re.escape(tok))
        fields.append(c)
    return re.compile("^" + "".join(out) + "$"), fields


def _format_pattern(pattern, dt, nanos):
    out = []
    for m in _PATTERN_TOKEN.finditer(pattern):
        tok = m.group(0)
        if tok.startswith("'"):
            out.append(tok[1:-1] if len(tok) > 2 else "'")
            continue
        c, n = tok[0], len(tok)
        if c in "yu":
            out.append("%02d" % (dt.year % 100) if n == 2 else "%04d" % dt.year)
        elif c == "M":
            out.append(_MONTHS[dt.month - 1].capitalize() if n >= 3 else ("%02d" % dt.month if n == 2 else str(dt.month)))
        elif c == "d":
            out.append("%02d" % dt.day if n == 2 else str(dt.day))
        elif c == "H":
            out.append("%02d" % dt.hour if n == 2 else str(dt.hour))
        elif c == "m":
            out.append("%02d" % dt.minute if n == 2 else str(dt.minute))
        elif c == "s":
            out.append("%02d" % dt.second if n == 2 else str(dt.second))
        elif c in "Sn":
            out.append(("%09d" % nanos)[:n])
        elif c in "ZXx":
            out.append("Z" if c == "X" else "+0000")
        else:
            out.append(tok)
    return "".join(out)


_MATH_RE = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


def parse_date_math(v, fmt, round_up=False, now_ms=None):
    """Date math as in range queries: "now-7d/d", "2020-01-01||+1M". Returns epoch nanos."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        n = fmt.parse(v)
        return n
    if not isinstance(v, str):
        return None
    if v.startswith("now"):
        base = (now_ms if now_ms is not None else int(time.time() * 1000)) * 1000000
        rest = v[3:]
    elif "||" in v:
        head, rest = v.split("||", 1)
        base = fmt.parse(head)
        if base is None:
            return None
    else:
        return fmt.parse(v)
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=base // 1000)
    pos = 0
    for m in _MATH_RE.finditer(rest):
        if m.start() != pos:
            return None
        pos = m.end()
        if m.group(4):
            dt = _round(dt, m.group(4), round_up)
        else:
            n = int(m.group(2)) * (1 if m.group(1) == "+" else -1)
            u = m.group(3)
            if u == "y":
                dt = dt.replace(year=dt.year + n)
            elif u == "M":
                mo = dt.month - 1 + n
                dt = dt.replace(year=dt.year + mo // 12, month=mo % 12 + 1)
            else:
                dt += datetime.timedelta(seconds=n * {"w": 604800, "d": 86400, "h": 3600, "H": 3600,
                                                      "m": 60, "s": 1}[u])
    if pos != len(rest):
        return None
    delta = dt - datetime.datetime(1970, 1, 1)
    return (delta.days * 86400 + delta.seconds) * 1000000000 + delta.microseconds * 1000


def _round(dt, unit, up):
    if unit == "y":
        lo = dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        hi = lo.replace(year=lo.year + 1)
    elif unit == "M":
        lo = dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        hi = lo.replace(year=lo.year + (lo.month // 12), month=lo.month % 12 + 1)
    elif unit == "w":
        lo = (dt - datetime.timedelta(days=dt.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        hi = lo + datetime.timedelta(days=7)
    elif unit == "d":
        lo = dt.replace(hour=0, minute=0, second=0, microsecond=0)
        hi = lo + datetime.timedelta(days=1)
    elif unit in "hH":
        lo = dt.replace(minute=0, second=0, microsecond=0)
        hi = lo + datetime.timedelta(hours=1)
    elif unit == "m":
        lo = dt.replace(second=0, microsecond=0)
        hi = lo + datetime.timedelta(minutes=1)
    else:
        lo = dt.replace(microsecond=0)
        hi = lo + datetime.timedelta(seconds=1)
    return hi - datetime.timedelta(microseconds=1) if up else lo
