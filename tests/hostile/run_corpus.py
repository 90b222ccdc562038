#!/usr/bin/env python3
"""Runs the hostile-input corpus (make_corpus.py) against `respodiff` and classifies every outcome.

    python3 tests/hostile/run_corpus.py --respodiff build/bin/respodiff --corpus build/hostile \\
        --model resources/toyworld/model [--timeout 30] [--max-rss-mb 2048] [--jobs 2] [--json RESULT]
        [--only SUBSTRING ...] [--class NAME ...] [--keep]

OK:  exit status 1 or 2 with an error line on stderr; or exit 0 where the case says may_succeed
     (and its check, if any, passes).
BAD: killed by a signal (SIGABRT, SIGSEGV, SIGFPE, SIGBUS, ...), timeout, peak RSS above the limit,
     an uncaught-exception message on stderr ("terminate called", "std::"), exit 0 where the case
     must fail, any other exit status, a silent failure (no stderr), or a failed output check.

Every case runs in its own empty folder (cwd, HOME, XDG_DATA_HOME under a temporary folder), with
RESPODIFF_LOG=error, in its own process group (killed as a group on timeout). Peak RSS comes from
wait4(); /proc/PID/status is polled as well, and a process above the limit is killed at once. An
address-space limit (RLIMIT_AS, --as-limit-mb) keeps a runaway allocation from taking the machine.
Exit status 1 if any case is BAD. Only the Python standard library is used.
"""
import argparse
import concurrent.futures
import gzip
import json
import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

UNCAUGHT = re.compile(r"terminate called|std::|what\(\):")
ALLOC = re.compile(r"can't allocate memory|bad_alloc|out of memory|Cannot allocate memory", re.I)


def expand(text, mapping, corpus):
    m = re.fullmatch(r"\{file:([^}]+)\}", text)
    if m:
        data = (corpus / m.group(1)).read_bytes()
        if m.group(1).endswith(".gz"):
            data = gzip.decompress(data)
        return os.fsdecode(data)
    for key, value in mapping.items():
        text = text.replace("{" + key + "}", value)
    return text


def read_tail(path, limit=200_000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def vm_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_one(argv, cwd, env, stdin_path, timeout, max_rss_kb, as_limit):
    """Runs one command; returns a dict with status, signal, timed_out, rss_kb, killed_rss, seconds."""
    out_path, err_path = os.path.join(cwd, ".stdout"), os.path.join(cwd, ".stderr")

    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if as_limit:
            resource.setrlimit(resource.RLIMIT_AS, (as_limit, as_limit))

    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err, \
            open(stdin_path or os.devnull, "rb") as stdin:
        import subprocess
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=out, stderr=err,
                                    start_new_session=True, preexec_fn=limits)
        except OSError as e:  # e.g. the binary is being relinked right now
            return {"exit": None, "signal": None, "timed_out": False, "killed_rss": False, "flooded": False,
                    "spawn_error": str(e), "rss_kb": 0, "seconds": 0.0, "stderr": "", "stdout": ""}
    pid = proc.pid
    timed_out = killed_rss = flooded = False
    peak_polled = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        rss = vm_rss_kb(pid)
        peak_polled = max(peak_polled, rss)
        elapsed = time.monotonic() - start
        reason = None
        if elapsed > timeout:
            timed_out, reason = True, "timeout"
        elif max_rss_kb and rss > max_rss_kb:
            killed_rss, reason = True, "rss"
        else:
            try:
                if os.path.getsize(out_path) + os.path.getsize(err_path) > (256 << 20):
                    flooded, reason = True, "output"
            except OSError:
                pass
        if reason:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            done, status, usage = os.wait4(pid, 0)
            break
        time.sleep(0.02 if elapsed < 2 else 0.05)
    proc.returncode = status  # reaped here; keeps Popen from waiting again
    try:  # anything the command left in its group
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    seconds = time.monotonic() - start
    return {
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timed_out": timed_out, "killed_rss": killed_rss, "flooded": flooded,
        "rss_kb": max(usage.ru_maxrss, peak_polled), "seconds": round(seconds, 3),
        "stderr": read_tail(err_path), "stdout": read_tail(out_path, 20_000),
    }


# --- PNG parameters check --------------------------------------------------------------------


def png_text_chunks(path):
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    chunks, i = {}, 8
    while i + 8 <= len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        i += 12 + n
        if kind == b"tEXt":
            key, _, text = body.partition(b"\0")
            chunks[key.decode("latin-1")] = text.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            if compressed:
                import zlib
                text = zlib.decompress(text)
            chunks[key.decode("latin-1")] = text.decode("utf-8", "replace")
        elif kind == b"IEND":
            break
    return chunks


def split_settings(line):
    """The settings line's top-level `key: value` pairs (quotes protect commas), as the C++ does."""
    out, current, quoted = [], "", False
    for ch in line + ",":
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            if ":" in current:
                k, _, v = current.partition(":")
                out.append((k.strip(), v.strip()))
            current = ""
        else:
            current += ch
    return out


def check_png_parameters(check, mapping, corpus):
    """mode 'strict': exactly one line starts with 'Steps: ', it is the last line, and its Steps and
    Size keys each appear once with the requested values. mode 'last': the last line is that line
    (earlier lines may be part of a multi-line prompt)."""
    path = expand(check["file"], mapping, corpus)
    try:
        text = png_text_chunks(path).get("parameters")
    except (OSError, ValueError) as e:
        return "cannot read the PNG: %s" % e
    if text is None:
        return "the PNG has no 'parameters' text chunk"
    lines = text.split("\n")
    settings = [l for l in lines if l.startswith("Steps: ")]
    last = lines[-1]
    pairs = split_settings(last)
    steps = [v for k, v in pairs if k == "Steps"]
    sizes = [v for k, v in pairs if k == "Size"]
    problems = []
    if not last.startswith("Steps: "):
        problems.append("the last line is not the settings line: %r" % last[:120])
    if steps != [str(check["steps"])]:
        problems.append("the settings line has Steps %s, expected exactly [%s]" % (steps, check["steps"]))
    if sizes != [check["size"]]:
        problems.append("the settings line has Size %s, expected exactly [%s]" % (sizes, check["size"]))
    if check.get("mode") == "strict" and len(settings) != 1:
        problems.append("%d lines start with 'Steps: ' (expected 1)" % len(settings))
    return "; ".join(problems) if problems else None


# --- classification --------------------------------------------------------------------------


def key_line(stderr):
    lines = [l.strip() for l in stderr.replace("\r", "\n").split("\n") if l.strip()]
    lines = [l for l in lines if not re.fullmatch(r"step \d+/\d+.*", l)]
    for l in lines:
        if "what():" in l:
            return l
    for l in lines:
        if "terminate called" in l:
            return l
    return lines[-1] if lines else ""


def classify(case, r, max_rss_kb):
    """Returns (kind, detail): kind None for OK."""
    err = r["stderr"]
    if r.get("spawn_error"):
        return "spawn-error", r["spawn_error"]
    if r["timed_out"]:
        return "timeout", "still running after %.0f s (peak RSS %d MiB)" % (r["seconds"], r["rss_kb"] // 1024)
    if r["killed_rss"] or (max_rss_kb and r["rss_kb"] > max_rss_kb):
        return "rss", "peak RSS %d MiB" % (r["rss_kb"] // 1024)
    if r["flooded"]:
        return "output-flood", "more than 256 MiB of output"
    if r["signal"] is not None:
        name = signal.Signals(r["signal"]).name
        if name == "SIGABRT" and ALLOC.search(err):
            return "signal:SIGABRT(alloc)", key_line(err)
        if name == "SIGABRT" and UNCAUGHT.search(err):
            return "signal:SIGABRT(uncaught)", key_line(err)
        return "signal:" + name, key_line(err)
    if "terminate called" in err or re.search(r"^std::|\bstd::\w+", err, re.M):
        return "uncaught", key_line(err)
    if r["exit"] == 0:
        if not case.get("may_succeed"):
            return "accepted", "exit 0 for a case that must fail"
        return None, ""
    if r["exit"] not in (1, 2):
        return "exit:%s" % r["exit"], key_line(err)
    if not key_line(err):
        return "silent", "exit %d without an error line" % r["exit"]
    return None, key_line(err)


def run_case(case, a, corpus, model, run_root):
    work = Path(tempfile.mkdtemp(prefix="case-", dir=run_root))
    cwd, home, xdg = work / "cwd", work / "home", work / "xdg"
    for p in (cwd, home, xdg):
        p.mkdir()
    mapping = {"dir": str(corpus), "model": str(model), "out": str(cwd)}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(home),
           "XDG_DATA_HOME": str(xdg), "RESPODIFF_LOG": "error", "OMP_NUM_THREADS": str(a.threads),
           "TMPDIR": str(work)}
    for k, v in (case.get("env") or {}).items():
        env[k] = expand(v, mapping, corpus)
    stdin_path = None
    if case.get("stdin") is not None:
        stdin_path = work / "stdin"
        stdin_path.write_bytes(os.fsencode(case["stdin"]))
    result = {"id": case["id"], "class": case["class"], "may_succeed": case.get("may_succeed", False),
              "argv": case["argv"], "note": case.get("note", "")}
    as_limit = a.as_limit_mb << 20 if a.as_limit_mb else 0
    steps = []
    for pre in case.get("pre") or []:
        argv = [a.respodiff] + [expand(x, mapping, corpus) for x in pre]
        r = run_one(argv, str(cwd), env, stdin_path, a.timeout, a.max_rss_mb << 10, as_limit)
        kind, detail = classify({"may_succeed": True}, r, a.max_rss_mb << 10)
        steps.append({"argv": pre, "exit": r["exit"], "signal": r["signal"], "seconds": r["seconds"]})
        if kind:
            result.update(kind=kind, detail="(in the preparing command) " + detail, exit=r["exit"],
                          signal=r["signal"], seconds=r["seconds"], rss_mb=r["rss_kb"] // 1024,
                          stderr_tail=r["stderr"][-2000:], pre=steps)
            break
    else:
        argv = [a.respodiff] + [expand(x, mapping, corpus) for x in case["argv"]]
        r = run_one(argv, str(cwd), env, stdin_path, a.timeout, a.max_rss_mb << 10, as_limit)
        kind, detail = classify(case, r, a.max_rss_mb << 10)
        if kind is None and r["exit"] == 0 and case.get("check"):
            problem = check_png_parameters(case["check"], mapping, corpus)
            if problem:
                kind, detail = "check", problem
        result.update(kind=kind, detail=detail, exit=r["exit"], signal=r["signal"], seconds=r["seconds"],
                      rss_mb=r["rss_kb"] // 1024, stderr_tail=r["stderr"][-2000:])
        if steps:
            result["pre"] = steps
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def shorten(arg, limit=120):
    arg = arg.encode("utf-8", "backslashreplace").decode("utf-8")
    return arg if len(arg) <= limit else arg[:limit] + "...(%d chars)" % len(arg)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--respodiff", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--max-rss-mb", type=int, default=2048)
    ap.add_argument("--as-limit-mb", type=int, default=None,
                    help="RLIMIT_AS for each command (default max-rss + 6144; 0: none)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS for each command")
    ap.add_argument("--json", help="write every case's result here")
    ap.add_argument("--only", action="append", help="run only cases whose id contains this (repeatable)")
    ap.add_argument("--class", dest="classes", action="append", help="run only this class (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep each case's working folder")
    a = ap.parse_args()
    if a.as_limit_mb is None:
        a.as_limit_mb = a.max_rss_mb + 6144
    a.respodiff = str(Path(a.respodiff).resolve())
    corpus, model = Path(a.corpus).resolve(), Path(a.model).resolve()
    cases = json.loads((corpus / "cases.json").read_text())["cases"]
    if a.only:
        cases = [c for c in cases if any(s in c["id"] for s in a.only)]
    if a.classes:
        cases = [c for c in cases if c["class"] in a.classes]
    run_root = tempfile.mkdtemp(prefix="respodiff-hostile-")
    started = time.monotonic()
    results, lock = [], threading.Lock()
    print("running %d cases, %d at a time, timeout %g s, RSS limit %d MiB" % (len(cases), a.jobs, a.timeout,
                                                                                a.max_rss_mb), file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futures = {pool.submit(run_case, c, a, corpus, model, run_root): c for c in cases}
        for n, f in enumerate(concurrent.futures.as_completed(futures), 1):
            r = f.result()
            with lock:
                results.append(r)
            mark = "ok " if not r["kind"] else "BAD"
            print("[%3d/%d] %s %-60s %6.1fs %5d MiB %s" % (n, len(cases), mark, r["id"], r["seconds"], r["rss_mb"],
                                                            r["kind"] or ""), file=sys.stderr, flush=True)
    shutil.rmtree(run_root, ignore_errors=True)
    total = time.monotonic() - started
    order = {c["id"]: i for i, c in enumerate(cases)}
    results.sort(key=lambda r: order[r["id"]])

    kinds = sorted({r["kind"] for r in results if r["kind"]})
    classes = []
    for r in results:
        if r["class"] not in classes:
            classes.append(r["class"])
    print("## Hostile-input corpus: %d cases, %d BAD, %.0f s (%d jobs, timeout %g s, RSS limit %d MiB)\n" % (
        len(results), sum(1 for r in results if r["kind"]), total, a.jobs, a.timeout, a.max_rss_mb))
    print("| class | cases | ok | bad | " + " | ".join(kinds) + (" |" if kinds else ""))
    print("|---|---:|---:|---:|" + "---:|" * len(kinds))
    for cls in classes + ["**all**"]:
        rs = [r for r in results if cls == "**all**" or r["class"] == cls]
        bad = [r for r in rs if r["kind"]]
        print("| %s | %d | %d | %d | " % (cls, len(rs), len(rs) - len(bad), len(bad)) +
              " | ".join(str(sum(1 for r in bad if r["kind"] == k) or "") for k in kinds) + (" |" if kinds else ""))
    bad = [r for r in results if r["kind"]]
    if bad:
        print("\n## BAD cases\n")
        for r in bad:
            print("- **%s** [%s] %.1f s, %d MiB: %s" % (r["id"], r["kind"], r["seconds"], r["rss_mb"], r["detail"]))
            print("  - argv: `respodiff %s`" % " ".join(shorten(x) for x in r["argv"]))
            if r.get("note"):
                print("  - note: %s" % r["note"])
            tail = [l for l in r["stderr_tail"].replace("\r", "\n").split("\n")
                    if l.strip() and not l.lstrip().startswith(("frame #", "Exception raised from"))
                    and " + 0x" not in l
                    and not re.fullmatch(r"\s*step \d+/\d+.*", l)][-3:]
            for l in tail:
                print("  - stderr: `%s`" % shorten(l, 300))
    if a.json:
        Path(a.json).write_text(json.dumps({"total_seconds": round(total, 1), "jobs": a.jobs, "timeout": a.timeout,
                                            "max_rss_mb": a.max_rss_mb, "results": results}, indent=1) + "\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
