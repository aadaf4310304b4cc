#!/usr/bin/env python3
"""Mutation testing of the systems faultline ships (make mutate).

Each mutant is a file mutants/<system>/<name>.mut: a small source change a
real engineer could make by mistake (docs/mutation.md has the format). For
each mutant this script copies the tree, applies the change, rebuilds, runs a
suite against the mutated system and reports the mutant killed (the suite
failed: which tests and which invariants said so) or survived. The suites
stop at their first failing test, and a kill is confirmed by a control run
of only the failing tests on the unmutated tree (same seed); when that
fails too, the mutant is "noisy". Figures per component at the end.

  tools/mutate.py                      every mutant, default suite, seed 7
  tools/mutate.py --seeds 7,1,3        seeds in order until one kills the mutant
  tools/mutate.py --only saga-         names containing "saga-"
  tools/mutate.py --check              only check that every mutant applies
  tools/mutate.py --list
  tools/mutate.py --suite 'CMD'        your own suite (see --help)

Exit: 0 when the kill rate reaches --min-kill (default 0: report only),
1 when it does not, 2 on usage or a mutant that does not apply, 3 when the
suite fails on the unmutated tree (nothing can be learnt then).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SUITES = {
    # the reference system's shipped suite: ref up, the e2e and chaos scenarios
    "ref": "sh tools/mutate-suite.sh ref",
    "examples": "sh tools/mutate-suite.sh examples",
}


class MutantError(Exception):
    pass


def parse_mutant(path):
    """A mutant: header lines "key: value" (and # comments), then hunks:
    "file: PATH" followed by <<<< old ==== new >>>> blocks."""
    m = {"path": path, "name": os.path.splitext(os.path.basename(path))[0],
         "system": os.path.basename(os.path.dirname(path)), "hunks": [],
         "title": "", "operator": "", "expect": "", "equivalent": "", "suite": "",
         "component": ""}
    cur_file = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        lineno = i + 1
        if line.startswith("<<<<"):
            if cur_file is None:
                raise MutantError(f"{path}:{lineno}: a hunk before any 'file:' line")
            old, new, j = [], [], i + 1
            while j < len(lines) and not lines[j].startswith("===="):
                old.append(lines[j]); j += 1
            if j >= len(lines):
                raise MutantError(f"{path}:{lineno}: '<<<<' without '===='")
            j += 1
            while j < len(lines) and not lines[j].startswith(">>>>"):
                new.append(lines[j]); j += 1
            if j >= len(lines):
                raise MutantError(f"{path}:{lineno}: '====' without '>>>>'")
            m["hunks"].append((cur_file, "\n".join(old), "\n".join(new), lineno))
            i = j + 1
            continue
        if line.startswith("#") or not line.strip():
            i += 1
            continue
        mm = re.match(r"^([a-z]+):\s*(.*)$", line)
        if not mm:
            raise MutantError(f"{path}:{lineno}: expected 'key: value', a hunk or a comment")
        key, val = mm.group(1), mm.group(2).strip()
        if key == "file":
            cur_file = val
        elif key in ("title", "operator", "expect", "equivalent", "suite", "component"):
            m[key] = val
        else:
            raise MutantError(f"{path}:{lineno}: unknown key '{key}'")
        i += 1
    if not m["hunks"]:
        raise MutantError(f"{path}: no hunk")
    if not m["title"]:
        raise MutantError(f"{path}: no 'title:'")
    return m


def apply_mutant(m, tree):
    """Apply m's hunks inside tree; each old text must occur exactly once."""
    for rel, old, new, lineno in m["hunks"]:
        p = os.path.join(tree, rel)
        try:
            with open(p, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise MutantError(f"{m['path']}:{lineno}: {rel}: {e.strerror}")
        n = text.count(old)
        if n != 1:
            raise MutantError(f"{m['path']}:{lineno}: the original text occurs {n} times in {rel} (want 1)")
        with open(p, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))


def check_applies(m):
    """Like apply_mutant on the checkout itself, in memory: every hunk's
    original text occurs exactly once (hunks of one file apply in order)."""
    texts = {}
    for rel, old, new, lineno in m["hunks"]:
        if rel not in texts:
            try:
                with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                    texts[rel] = f.read()
            except OSError as e:
                raise MutantError(f"{m['path']}:{lineno}: {rel}: {e.strerror}")
        n = texts[rel].count(old)
        if n != 1:
            raise MutantError(f"{m['path']}:{lineno}: the original text occurs {n} times in {rel} (want 1)")
        texts[rel] = texts[rel].replace(old, new, 1)


def load_mutants(only):
    base = os.path.join(ROOT, "mutants")
    out = []
    for d, _, files in sorted(os.walk(base)):
        for fn in sorted(files):
            if fn.endswith(".mut"):
                m = parse_mutant(os.path.join(d, fn))
                if not only or any(o in m["name"] or o in m["system"] for o in only):
                    out.append(m)
    return out


def copy_tree(dst, build):
    """The source files git knows (tracked and untracked, not ignored) and the
    build directory, with their times, so make rebuilds only what a mutant
    touches; not what other make targets leave there (the demo's reports, the
    sanitizer and fuzz builds, node modules, the image's root filesystem)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for rel in files:
        if not rel or not os.path.exists(os.path.join(ROOT, rel)):
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), os.path.join(dst, rel), follow_symlinks=False)
    if os.path.isdir(os.path.join(ROOT, build)):
        shutil.copytree(os.path.join(ROOT, build), os.path.join(dst, build), symlinks=True,
                        ignore=shutil.ignore_patterns("test-logs", "demo", "san", "fuzz", "node", "rootfs",
                                                      "report-pages", "*.deb"))


def restore(pristine, tree, rel):
    """Put back the unmutated file with a new time, so make rebuilds what the
    mutant's version had built (its object is newer than the original file)."""
    shutil.copyfile(os.path.join(pristine, rel), os.path.join(tree, rel))
    os.utime(os.path.join(tree, rel))


def build(tree, build_dir, log):
    r = subprocess.run(["make", "-s", "-j2", f"BUILD={build_dir}", f"{build_dir}/faultline",
                        f"{build_dir}/transferd"], cwd=tree, stdout=log, stderr=subprocess.STDOUT)
    return r.returncode == 0


def killers(output):
    """The failing tests and invariants named in a suite's output."""
    tests, invs = [], []
    for line in output.splitlines():
        s = line.strip()
        if s.startswith("✗ "):
            t = re.sub(r"\s*\(\d+(\.\d+)?\s*m?s\)$", "", s[2:])
            t = re.sub(r"^\S+\.lua:\d+\s+", "", t)   # the summary's "FILE:LINE  name"
            if t not in tests:
                tests.append(t)
        mm = re.match(r"^(?:FAIL|fail)\s+([A-Z][A-Z]?\d)\b", s)
        if mm and mm.group(1) not in invs:
            invs.append(mm.group(1))
        # a test's message: "probe check failed: H6 requests inside ..."
        for inv in re.findall(r"\bcheck failed: ([A-Z][A-Z]?\d)\b", s):
            if inv not in invs:
                invs.append(inv)
        for inv in re.findall(r"\b(?:saga|bank|breaker|probe) ([A-Z][A-Z]?\d)\b", s):
            if "not valid" in s or "FAIL" in s or "violat" in s:
                if inv not in invs:
                    invs.append(inv)
    return tests, invs


def run_suite(cmd, tree, build_dir, seed, timeout, logpath, extra_env=None):
    env = dict(os.environ)
    env.update({"FAULTLINE": os.path.join(tree, build_dir, "faultline"),
                "TRANSFERD": os.path.join(tree, build_dir, "transferd"),
                "SEED": str(seed), "ROOT": tree, "BUILD": build_dir,
                # where a ref suite writes its JSON journal (the failing tests
                # for the control run)
                "MUTATE_REPORT": os.path.splitext(logpath)[0] + ".json"})
    env.update(extra_env or {})
    t0 = time.time()
    with open(logpath, "w") as log:
        # its own process group, so a suite past its time is stopped whole
        # (the suite's own traps then stop the systems it started)
        p = subprocess.Popen(cmd, shell=True, cwd=tree, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = "timeout"
            for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    p.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    pass
        except BaseException:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            raise
    with open(logpath, errors="replace") as f:
        out = f.read()
    return rc, out, time.time() - t0


# --- the control run ---------------------------------------------------------
# A failing suite kills the mutant only when the same tests pass on the
# unmutated tree with the same seed; otherwise the machine (load, timing)
# failed them and the mutant is "noisy". The control reruns only what failed.

PCRE_META = re.compile(r"([\\^$.|?*+()\[\]{}#\-])")


def pcre_quote(s):
    """s as a PCRE2 pattern matching exactly s (every metacharacter escaped)."""
    return PCRE_META.sub(r"\\\1", s)


def grep_exact(titles):
    """A --grep pattern selecting exactly these tests ("suite > name")."""
    return "^(?:" + "|".join(pcre_quote(tt) for tt in titles) + ")$"


def failed_in_journal(path, tree):
    """The failing tests of a `faultline run` JSON journal: {file: [title]},
    titles as --grep sees them ("suite > name"); None when the journal is
    missing or names a failure no test can be rerun for (a file error, a
    teardown)."""
    try:
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
    except (OSError, ValueError):
        return None
    out = {}
    for fl in j.get("files", []):
        if fl.get("errors"):
            return None
        for tst in fl.get("tests", []):
            if tst.get("status") != "failed":
                continue
            if tst.get("name") in ("(teardown)", "(setup)"):
                return None
            title = (tst["suite"] + " > " if tst.get("suite") else "") + tst["name"]
            rel = os.path.relpath(fl["file"], tree) if os.path.isabs(fl["file"]) else fl["file"]
            out.setdefault(rel, []).append(title)
    return out or None


# the parts of e2e/examples_orders.sh (EXAMPLES_PARTS) and the lines that
# say which one failed ("FAIL: NAME exited 1, want 0", "FAIL: BUG not caught")
EXAMPLES_PARTS = (("scenarios", r"^FAIL: (scenarios|short-breaker scenarios|contract verify \S+) exited"),
                  ("chaos", r"^FAIL: chaos seed \S+ exited"),
                  ("planted", r"^FAIL: (missing-compensation|ready-while-draining)\b"))


def control_plan(cmd, out, journal, tree):
    """What the control run reruns: (environment for the suite, description),
    or (None, "whole suite") when the failing part cannot be told."""
    mm = re.search(r"mutate-suite\.sh\s+(ref-quick|ref|examples)\b", cmd)
    kind = mm.group(1) if mm else ""
    if kind.startswith("ref"):
        failed = failed_in_journal(journal, tree)
        if failed:
            grep = grep_exact([tt for ts in failed.values() for tt in ts])
            if len(grep) < 4000:
                return ({"SUITE_PATHS": " ".join(sorted(failed)), "SUITE_GREP": grep},
                        "; ".join(f"{f}: {', '.join(ts)}" for f, ts in sorted(failed.items())))
    elif kind == "examples":
        parts = [name for name, pat in EXAMPLES_PARTS if re.search(pat, out, re.M)]
        if len(parts) == 1:
            env, what = {"EXAMPLES_PARTS": parts[0]}, f"the driver's {parts[0]} part"
            tests, _ = killers(out)
            if re.search(r"^FAIL: scenarios exited", out, re.M) and tests:
                # the scenarios' failing tests (the driver prints the
                # failing run's end: its summary lists them)
                env["EXAMPLES_GREP"] = grep_exact(tests)
                what += ": " + ", ".join(tests)
            return env, what
    return None, "whole suite"


def control_run(cmd, ctrl_tree, a, sd, out, journal, tree, logbase):
    """Rerun what failed on the unmutated tree; (passed, what was rerun)."""
    env, what = control_plan(cmd, out, journal, tree)
    crc, cout, _ = run_suite(cmd, ctrl_tree, a.build, sd, a.timeout, logbase + ".log", env)
    if env and crc != 0:
        # before calling the mutant noisy, the whole suite: the selection may
        # have missed (a name spelt otherwise) or a test may need the ones
        # before it in its file
        why = "matched nothing" if "no tests matched" in cout else "failed on its own"
        what = f"whole suite ({what} {why})"
        crc, _, _ = run_suite(cmd, ctrl_tree, a.build, sd, a.timeout, logbase + "-whole.log")
    return crc == 0, what


# --- components ---------------------------------------------------------------

COMPONENTS = (("saga-", "saga coordinator"), ("remit-", "saga coordinator"),
              ("money-", "money"), ("banking-", "banking"), ("query-", "read model"),
              ("gateway-", "gateway"), ("breaker-", "breakers"), ("probe-", "probes, shutdown"))


def component_of(m):
    """The mutant's `component:` line, else from its name (ref) or its file
    (examples: the service or module it changes)."""
    if m["component"]:
        return m["component"]
    if m["system"] == "ref":
        for prefix, comp in COMPONENTS:
            if m["name"].startswith(prefix):
                return comp
        return "other"
    return f"{m['system']}: {os.path.basename(m['hunks'][0][0])}"


def run_mutant(m, a, seeds, tree, ctrl_tree, logs):
    """Apply, build and run one mutant (the previous one's files already
    restored); its result."""
    t0 = time.time()
    res = {"name": m["name"], "system": m["system"], "component": component_of(m),
           "title": m["title"], "operator": m["operator"], "expect": m["expect"],
           "equivalent": m["equivalent"], "seeds": {}}
    res["_files"] = sorted({h[0] for h in m["hunks"]})
    apply_mutant(m, tree)
    with open(os.path.join(logs, f"build-{m['name']}.log"), "w") as log:
        built = build(tree, a.build, log)
    if not built:
        res["verdict"] = "build-failed"
        res["seconds"] = round(time.time() - t0, 1)
        print(f"  BUILD-FAILED {m['system']}/{m['name']} (log {log.name})")
        return res
    cmd = a.suite or DEFAULT_SUITES.get(m["suite"] or m["system"], m["suite"] or m["system"])
    killed_any = noisy = False
    for sd in seeds:
        if killed_any:
            # a seed killed it: the later ones would only say so again
            res["seeds"][str(sd)] = {"skipped": True}
            continue
        logbase = os.path.join(logs, f"{m['name']}-{sd}")
        rc, out, dt = run_suite(cmd, tree, a.build, sd, a.timeout, logbase + ".log")
        tests, invs = killers(out)
        killed = rc != 0
        entry = {"killed": killed, "exit": rc, "seconds": round(dt, 1), "tests": tests,
                 "invariants": invs}
        if killed and a.control:
            ct = time.time()
            passed, what = control_run(cmd, ctrl_tree, a, sd, out, logbase + ".json", tree,
                                       os.path.join(logs, f"control-{m['name']}-{sd}"))
            entry["control"] = {"passed": passed, "reran": what,
                                "seconds": round(time.time() - ct, 1)}
            if not passed:
                killed = False
                noisy = True
            entry["killed"] = killed
        res["seeds"][str(sd)] = entry
        killed_any = killed_any or killed
    res["noisy"] = noisy
    res["verdict"] = "equivalent" if m["equivalent"] else (
        "killed" if killed_any else "noisy" if noisy else "survived")
    res["seconds"] = round(time.time() - t0, 1)
    first = res["seeds"][str(seeds[0])]
    by = ", ".join(first["invariants"] or first["tests"][:2]) if first["killed"] else ""
    if not by and killed_any:
        by = "by another seed: " + ",".join(s for s, v in res["seeds"].items() if v.get("killed"))
    print(f"  {res['verdict'].upper():10} {m['system']}/{m['name']:38} {res['seconds']:5.0f} s  {by}",
          flush=True)
    return res


def summarize(results, seeds, wall):
    """Print the figures; the JSON document of the run."""
    counted = [r for r in results if r["verdict"] in ("killed", "survived", "noisy")]
    first_seed = str(seeds[0])
    seeds_s = ",".join(str(s) for s in seeds)

    def killed_first(r):
        return bool(r["seeds"].get(first_seed, {}).get("killed"))

    comps = {}
    for r in counted:
        c = comps.setdefault(r["component"], {"total": 0, "killed_first_seed": 0, "killed": 0})
        c["total"] += 1
        c["killed_first_seed"] += killed_first(r)
        c["killed"] += r["verdict"] == "killed"
    print()
    w = max([len(c) for c in comps] + [9])
    h1, h2 = f"seed {first_seed}", f"seeds {seeds_s}"
    w1, w2 = max(len(h1), 7), max(len(h2), 7)
    print(f"  {'component':{w}}  {h1:>{w1}}  {h2:>{w2}}   (killed/counted)")
    for name in sorted(comps):
        c = comps[name]
        k1, k2 = f"{c['killed_first_seed']}/{c['total']}", f"{c['killed']}/{c['total']}"
        print(f"  {name:{w}}  {k1:>{w1}}  {k2:>{w2}}")
    killed = [r for r in counted if r["verdict"] == "killed"]
    kf = [r for r in counted if killed_first(r)]
    rate = len(killed) / len(counted) if counted else 0.0
    neq = len([r for r in results if r["verdict"] == "equivalent"])
    print(f"mutants: {len(killed)}/{len(counted)} killed ({100 * rate:.0f} %) with seeds {seeds_s}; "
          f"{len(kf)}/{len(counted)} with seed {first_seed} alone; {neq} documented equivalent")
    times = {}
    for v in ("killed", "survived", "noisy"):
        ts = [r["seconds"] for r in results if r["verdict"] == v]
        if ts:
            times[v] = round(sum(ts) / len(ts), 1)
    per = ", ".join(f"{v} {s:.0f} s" for v, s in times.items())
    print(f"wall time: {wall / 60:.1f} min for {len(results)} mutants"
          + (f" (mean per mutant: {per})" if per else ""))
    for r in counted:
        if r["verdict"] in ("survived", "noisy"):
            print(f"  {r['verdict']}: {r['system']}/{r['name']}: {r['title']}")
    return {"seeds": seeds, "wall_seconds": round(wall, 1), "kill_rate": round(rate, 4),
            "killed": len(killed), "killed_first_seed": len(kf), "counted": len(counted),
            "equivalent": neq, "mean_seconds": times, "components": comps,
            "mutants": [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]}, rate


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", default=[], help="mutants whose name or system contains this (repeatable)")
    ap.add_argument("--seeds", default=os.environ.get("MUTATE_SEEDS", "7"),
                    help="comma-separated seeds, tried in order until one kills (default 7)")
    ap.add_argument("--suite", default=os.environ.get("MUTATE_SUITE", ""),
                    help="suite command run in the mutated tree (env FAULTLINE, TRANSFERD, SEED, ROOT, BUILD); "
                         "default per system: " + ", ".join(f"{k}: {v}" for k, v in DEFAULT_SUITES.items()))
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("MUTATE_TIMEOUT", "300")), help="seconds per suite run")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--min-kill", type=float, default=0.0, help="exit 1 below this kill rate (0..1)")
    ap.add_argument("--check", action="store_true", help="only check that every mutant parses and applies")
    ap.add_argument("--no-control", dest="control", action="store_false",
                    help="count every failing suite as a kill (default: a kill is confirmed by the failing "
                         "tests passing on the unmutated tree with the same seed; when they fail there too "
                         "the mutant is 'noisy')")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    try:
        mutants = load_mutants(a.only)
        seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    except MutantError as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 2
    except ValueError:
        print(f"mutate: --seeds expects comma-separated integers, got '{a.seeds}'", file=sys.stderr)
        return 2
    if not mutants or not seeds:
        print("mutate: no mutant matched" if not mutants else "mutate: no seed", file=sys.stderr)
        return 2
    if a.list:
        for m in mutants:
            print(f"{m['system']:9} {m['name']:40} {component_of(m):18} {m['operator']:22} {m['title']}")
        return 0
    if a.check:
        bad = 0
        for m in mutants:
            try:
                check_applies(m)
            except MutantError as e:
                print(f"mutate: {e}", file=sys.stderr)
                bad += 1
        print(f"mutate: {len(mutants) - bad} of {len(mutants)} mutants apply")
        return 2 if bad else 0
    t_start = time.time()
    work = tempfile.mkdtemp(prefix="faultline-mutate-")
    status = 0
    try:
        pristine = os.path.join(work, "pristine")
        os.makedirs(pristine)
        copy_tree(pristine, a.build)
        tree = os.path.join(work, "tree")
        shutil.copytree(pristine, tree, symlinks=True)
        logs = os.path.join(work, "logs")
        os.makedirs(logs)
        with open(os.path.join(logs, "build-base.log"), "w") as log:
            if not build(tree, a.build, log):
                print(f"mutate: the unmutated tree does not build (log {log.name})", file=sys.stderr)
                return 3
        # the unmutated tree, built once, where baselines and control runs go
        ctrl_tree = os.path.join(work, "control")
        shutil.copytree(tree, ctrl_tree, symlinks=True)
        suites = sorted({m["suite"] or m["system"] for m in mutants})
        for s in suites:
            cmd = a.suite or DEFAULT_SUITES.get(s, s)
            rc, out, dt = run_suite(cmd, ctrl_tree, a.build, seeds[0], a.timeout,
                                    os.path.join(logs, f"base-{s}.log"))
            print(f"baseline {s}: {'passes' if rc == 0 else 'FAILS (exit %s)' % rc} ({dt:.0f} s): {cmd}")
            if rc != 0:
                print(out[-3000:])
                print("mutate: the suite fails on the unmutated tree; nothing can be learnt", file=sys.stderr)
                return 3
        results = []
        for m in mutants:
            # restore the files of the previous mutant, then apply this one
            for r0 in results[-1:]:
                for rel in r0["_files"]:
                    restore(pristine, tree, rel)
            res = run_mutant(m, a, seeds, tree, ctrl_tree, logs)
            if res["verdict"] == "build-failed":
                status = 2
            results.append(res)
        # restore for --keep
        for r0 in results[-1:]:
            for rel in r0["_files"]:
                restore(pristine, tree, rel)
        doc, rate = summarize(results, seeds, time.time() - t_start)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(doc, f, indent=1)
        if status == 0 and rate < a.min_kill:
            status = 1
        return status
    finally:
        if a.keep:
            print(f"mutate: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def on_term(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("mutate: interrupted", file=sys.stderr)
        sys.exit(130)
