"""Where ddb2es spends its own CPU: perf (sampling) and callgrind (exact counts).

    perf_available() -> (bool, reason)
    perf_profile(cmd, env, outdir) -> dict       runs cmd under perf record, reads the report
    callgrind_available() -> (bool, reason)
    callgrind_profile(cmd, env, outdir) -> dict  runs cmd under callgrind, reads the annotation
    STAGES                                       the pipeline stages and the function that roots each

DESIGN
Both tools answer the same question with different trade-offs, so both are
read into the same shape: a list of (inclusive %, self %, symbol) and a
per-stage table computed from the inclusive cost of the one function that
roots each stage (entity_map_item is "mapping", json_loadb under ddb_call is
"parse Scan pages", ...). Stages nest in places (the Scan parse happens
inside ddb_scan), so the stage table is not meant to add up to 100 %.

- perf samples the real run at full speed with every thread and the kernel
  (socket copies), but needs DWARF unwinding (the build keeps no frame
  pointers) and only sees what it sampled.
- callgrind counts every instruction of the process (not the kernel), on a
  smaller table because it runs ~50x slower; under it threads are
  serialised, which is fine for "how many instructions per document".
perf is started with -e cpu-clock: virtual machines often have no hardware
cycle counter, and a software clock works everywhere perf does.
"""

import os
import re
import shutil
import subprocess

# stage name -> root function (inclusive cost), in pipeline order
STAGES = [
    ("http_send (all HTTP, both services, incl. signing)", "http_send"),
    ("  SigV4 signing", "sigv4_sign_request"),
    ("Scan page JSON parse (jansson json_loadb)", "json_loadb"),
    ("Scan request JSON build (json_dumps)", "json_dumps"),
    ("free Scan pages (json_delete)", "json_delete"),
    ("mapping items (entity_map_item)", "entity_map_item"),
    ("bulk body building (es_bulk_index)", "es_bulk_index"),
    ("bulk send (es_bulk_send, incl. HTTP)", "es_bulk_send"),
    ("  bulk answer parsing (es_parse_bulk_response)", "es_parse_bulk_response"),
    ("curl_easy_perform (all HTTP, both services)", "curl_easy_perform"),
    ("mem* of libc: memcpy, memmove, memchr... (self, all callers)", "mem*"),
    ("malloc + free (self, all callers)", None),
]


def _run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def perf_available():
    perf = shutil.which("perf")
    if not perf:
        return False, "perf is not installed (Debian package linux-perf)"
    r = _run([perf, "stat", "-e", "cpu-clock", "true"])
    if r.returncode != 0:
        return False, "perf cannot count here: %s" % (r.stderr.strip().splitlines() or ["?"])[-1]
    return True, perf


def callgrind_available():
    vg = shutil.which("valgrind")
    if not vg:
        return False, "valgrind is not installed"
    if not shutil.which("callgrind_annotate"):
        return False, "callgrind_annotate is not installed"
    return True, vg


# "  46.70%   0.00%  libjansson.so.4.14.0  [.] json_loadb   -   -" (the dashes: IPC columns
# that a software event leaves empty)
_PERF_DSO_SYM = re.compile(r"^\s*([\d.]+)%\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*?)(?:\s+-)*\s*$")
_PERF_DSO_SYM_SELF = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*?)(?:\s+-)*\s*$")
_PERF_SELF = re.compile(r"^\s*([\d.]+)%\s+(.*?)\s*$")


def _name(sym, dso):
    """A symbol; an address without one gets its library's name."""
    sym = sym.strip()
    if sym.startswith("0x"):
        return "%s (%s, no symbols)" % (sym, dso.split(".so")[0])
    return sym


def perf_profile(cmd, env, outdir, freq=499):
    """Run cmd under perf record; returns {rc, wall, samples, inclusive: [(incl, self, sym)],
    self: [(pct, sym)], dso: [(pct, dso)], stages: [(name, incl%)], data}."""
    ok, perf = perf_available()
    if not ok:
        return {"error": perf}
    data = os.path.join(outdir, "perf.data")
    rec = [perf, "record", "-q", "-e", "cpu-clock", "-F", str(freq), "--call-graph", "dwarf,16384",
           "-o", data, "--"] + cmd
    r = _run(rec, env=env)
    if r.returncode != 0 and not os.path.exists(data):
        return {"error": "perf record failed: %s" % r.stderr[-500:]}
    out = {"rc": r.returncode, "data": data, "stderr": r.stderr[-1000:]}
    rep = [perf, "report", "-i", data, "--stdio"]
    r1 = _run(rep + ["--children", "--sort", "dso,symbol", "-g", "none", "--percent-limit", "0.3"])
    inc = []
    for ln in r1.stdout.splitlines():
        m = _PERF_DSO_SYM.match(ln)
        if m:
            inc.append((float(m.group(1)), float(m.group(2)), _name(m.group(4), m.group(3))))
    out["inclusive"] = inc
    r2 = _run(rep + ["--no-children", "--sort", "dso,symbol", "-g", "none", "--percent-limit", "0.3"])
    out["self"] = [(float(m.group(1)), _name(m.group(3), m.group(2)))
                   for m in map(_PERF_DSO_SYM_SELF.match, r2.stdout.splitlines()) if m]
    r3 = _run(rep + ["--no-children", "--sort", "dso", "-g", "none"])
    out["dso"] = [(float(m.group(1)), m.group(2).strip())
                  for m in map(_PERF_SELF.match, r3.stdout.splitlines()) if m]
    m = re.search(r"^# Samples: (\d+)([KM]?)", r3.stdout, re.M)
    out["samples"] = int(m.group(1)) * {"": 1, "K": 1000, "M": 1000000}[m.group(2)] if m else None
    incl = {}
    for pct, _self, sym in inc:
        incl.setdefault(sym, pct)
    selfs = {}
    for pct, sym in out["self"]:
        selfs[sym] = selfs.get(sym, 0.0) + pct
    out["stages"] = _stages(incl, selfs)
    return out


def _stages(incl, selfs):
    rows = []
    for name, fn in STAGES:
        if fn is None:
            v = sum(p for s, p in selfs.items()
                    if re.match(r"^(_int_|__libc_|cfree|)(malloc|free|realloc|calloc)", s)
                    or s in ("malloc", "free", "realloc", "calloc", "_int_malloc", "_int_free",
                             "malloc_consolidate", "unlink_chunk.isra.0", "__libc_calloc"))
            rows.append((name, v))
        else:
            if fn == "mem*":
                v = sum(p for s, p in selfs.items() if re.match(r"^(__)?mem(cpy|move|set|chr|cmp)", s))
            else:
                v = incl.get(fn)
            rows.append((name, v))
    return rows


_CG_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S.*?)\s*$")


def callgrind_profile(cmd, env, outdir):
    """Run cmd under valgrind --tool=callgrind; returns {rc, total_ir,
    inclusive: [(pct, ir, sym)], self: [(pct, ir, sym)], stages}."""
    ok, vg = callgrind_available()
    if not ok:
        return {"error": vg}
    out_file = os.path.join(outdir, "callgrind.out")
    r = _run([vg, "--tool=callgrind", "--callgrind-out-file=" + out_file] + cmd, env=env)
    if not os.path.exists(out_file):
        return {"error": "callgrind failed: %s" % r.stderr[-800:]}
    res = {"rc": r.returncode, "data": out_file}

    def annotate(inclusive):
        a = _run(["callgrind_annotate", "--inclusive=%s" % ("yes" if inclusive else "no"),
                  "--threshold=99.5", "--auto=no", out_file])
        rows, total, seen = [], None, set()
        for ln in a.stdout.splitlines():
            m = re.match(r"^\s*([\d,]+)\s+(\(100\.0%\)\s+)?PROGRAM TOTALS", ln)
            if m:
                total = int(m.group(1).replace(",", ""))
                continue
            m = _CG_LINE.match(ln)
            if not m or float(m.group(2)) > 100.0:
                continue  # over 100 %: a recursion cycle counted more than once
            # "file:function [object]" -> function; a function without a symbol
            # (a stripped library) -> "0x... (libname)"
            sym = m.group(3)
            mo = re.search(r"\s+\[([^\]]*)\]$", sym)
            obj = os.path.basename(mo.group(1)).split(".so")[0] if mo else ""
            sym = sym[:mo.start()] if mo else sym
            sym = sym.split(":", 1)[1] if ":" in sym else sym
            if sym.endswith("'2"):
                continue  # the recursive part of a cycle: already inside its first entry
            if sym.startswith("0x") and obj:
                sym = "%s (%s, no symbols)" % (sym, obj)
            key = sym
            if key in seen:
                continue  # the same function listed under two file names
            seen.add(key)
            rows.append((float(m.group(2)), int(m.group(1).replace(",", "")), sym))
        return rows, total

    res["inclusive"], res["total_ir"] = annotate(True)
    res["self"], _ = annotate(False)
    incl = {}
    for pct, _ir, sym in res["inclusive"]:
        incl.setdefault(sym, pct)
    selfs = {}
    for pct, _ir, sym in res["self"]:
        selfs[sym] = selfs.get(sym, 0.0) + pct
    res["stages"] = _stages(incl, selfs)
    return res
