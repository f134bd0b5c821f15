#!/usr/bin/env python3
"""make bench: gpotool against the floor (cp, cat) and its peers (hivexregedit --merge,
reged -I, xmllint) on large realistic inputs, in one run, as ratios.

Each pair runs alternately (A, B, A, B, ...) so that both see the same machine state; every run
of a writer gets a fresh copy of the pristine file, made outside the timed part. The time is the
median wall-clock time of RUNS runs; the peak RSS comes from /usr/bin/time -v of each run (the
largest seen). Prints a table and writes BENCHMARKS.md. Usage: bench.py GPOTOOL WORKDIR OUT.md"""
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

GPOTOOL, WORK, OUT = (os.path.abspath(a) for a in sys.argv[1:4])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(ROOT, "..", "shared", "tools", "gen_hives.py")
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SYSTEM_SCALE = os.environ.get("BENCH_SYSTEM_SCALE", "1.5")
SOFTWARE_SCALE = os.environ.get("BENCH_SOFTWARE_SCALE", "1.3")
XML_ITEMS = int(os.environ.get("BENCH_XML_ITEMS", "10000"))
# issue 10: gpo show / gpo set must stay linear; goal under 5 s and under 4x the file in RSS
BIG_XML_ITEMS = int(os.environ.get("BENCH_BIG_XML_ITEMS", "200000"))
# BENCH_ONLY=big-gpo runs only that case (it needs no hive generator)
ONLY = os.environ.get("BENCH_ONLY", "")
GUID = "{B3C1A9E0-5D4F-4E2A-9C7B-1A2B3C4D5E6F}"
PFX_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\MicrosoftIntune\\PFXCertificateConnector"
KDC_KEY = "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Kdc"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def make_gpo(gpo, items):
    """A GPO folder under gpo holding a GPMC-style Registry.xml of items items (kept between runs)."""
    reg = os.path.join(gpo, GUID, "Machine", "Preferences", "Registry")
    if os.path.exists(os.path.join(reg, "Registry.xml")):
        return
    shutil.rmtree(gpo, ignore_errors=True)
    os.makedirs(gpo)
    sh([GPOTOOL, "--state-dir", os.path.join(WORK, "state-setup"), "gpo", "new", gpo, "--name", "bench", "--guid", GUID])
    os.makedirs(reg)
    sh([sys.executable, os.path.join(ROOT, "tests", "bench", "gen-registry-xml.py"), str(items),
        os.path.join(reg, "Registry.xml")])


def prepare():
    os.makedirs(WORK, exist_ok=True)
    big = os.path.join(WORK, "gpo-%d" % BIG_XML_ITEMS)
    make_gpo(big, BIG_XML_ITEMS)
    if ONLY == "big-gpo":
        return None, None, big
    gen = os.path.join(WORK, "gen")
    if not (os.path.exists(os.path.join(gen, "SYSTEM.hive")) and os.path.exists(os.path.join(gen, "SOFTWARE.hive"))):
        if not os.path.exists(GEN):
            sys.exit("bench: needs the hive generator %s (the shared tools beside this clone)" % GEN)
        sh([sys.executable, GEN, "--system-scale", SYSTEM_SCALE, "--software-scale", SOFTWARE_SCALE, gen])
    for name, key, value in (("pfx", PFX_KEY, "EnableSidSecurityExtension"),
                             ("kdc", KDC_KEY, "StrongCertificateBindingEnforcement")):
        data = 'Windows Registry Editor Version 5.00\r\n\r\n[%s]\r\n"%s"=dword:00000001\r\n' % (key, value)
        with open(os.path.join(WORK, name + ".reg"), "w", newline="") as f:
            f.write(data)
    gpo = os.path.join(WORK, "gpo")
    make_gpo(gpo, XML_ITEMS)
    return gen, gpo, big


def timed(cmd, setup=None):
    """One run under /usr/bin/time -v: (wall seconds, peak RSS in KiB)."""
    if setup:
        setup()
    rss_file = os.path.join(WORK, "rss.txt")
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", "-o", rss_file] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("bench: %s failed (exit %d): %s" % (" ".join(cmd), p.returncode, p.stderr.decode(errors="replace")[-500:]))
    rss = 0
    with open(rss_file) as f:
        for line in f:
            if "Maximum resident set size" in line:
                rss = int(line.rsplit(":", 1)[1])
    return wall, rss


class Case:
    def __init__(self, label, cmd, setup=None, shown=None):
        self.label, self.cmd, self.setup, self.shown = label, cmd, setup, shown or cmd
        self.times, self.rss = [], 0

    def run(self):
        wall, rss = timed(self.cmd, self.setup)
        self.times.append(wall)
        self.rss = max(self.rss, rss)

    @property
    def median(self):
        return statistics.median(self.times)


def fresh_copy(src, dst):
    def setup():
        if os.path.exists(dst):
            os.unlink(dst)
        shutil.copyfile(src, dst)
    return setup


def fresh_state(path):
    def setup():
        shutil.rmtree(path, ignore_errors=True)
    return setup


def both(*fns):
    def setup():
        for fn in fns:
            fn()
    return setup


def compare(a, others):
    """Runs a against each of others alternately, RUNS times."""
    for _ in range(RUNS):
        for b in [a] + others:
            b.run()


def hive_group(gen, kind, template, reg, prefix):
    pristine = os.path.join(gen, kind + ".hive")
    target = os.path.join(WORK, kind)
    state = os.path.join(WORK, "state-" + kind)
    stage = Case("gpotool stage %s --hive %s" % (template, kind),
                 [GPOTOOL, "--state-dir", state, "stage", template, "--hive", target],
                 both(fresh_copy(pristine, target), fresh_state(state)))
    cp = Case("cp %s" % kind, ["cp", pristine, target + ".cp"], lambda: None)
    hx = Case("cp + hivexregedit --merge", ["sh", "-c", 'cp "$1" "$2" && hivexregedit --merge --prefix "$3" "$2" "$4"', "sh",
                                            pristine, target + ".hx", prefix, reg])
    # reged exits 2 after committing a changed hive (chntpw 140201): that is its success
    rg = Case("cp + reged -I -C", ["sh", "-c", 'cp "$1" "$2" && { reged -I -C "$2" "$3" "$4" >/dev/null; test $? -le 2; }', "sh",
                                   pristine, target + ".rg", prefix, reg])
    compare(stage, [cp, hx, rg])
    for out in (target, target + ".hx", target + ".rg"):
        check_value(out, kind)
    validate = Case("gpotool validate %s --hive %s" % (template, kind),
                    [GPOTOOL, "--state-dir", state, "validate", template, "--hive", target])
    cat = Case("cat %s > /dev/null" % kind, ["sh", "-c", 'cat "$1" >/dev/null', "sh", pristine])
    compare(validate, [cat])
    return os.path.getsize(pristine), stage, cp, hx, rg, validate, cat


def gpo_group(gpo):
    pristine = os.path.join(gpo, GUID)
    target = os.path.join(WORK, "gpo-run", GUID)
    state = os.path.join(WORK, "state-gpo")

    def setup():
        shutil.rmtree(os.path.dirname(target), ignore_errors=True)
        shutil.copytree(pristine, target)
        shutil.rmtree(state, ignore_errors=True)
    xml = os.path.join(pristine, "Machine", "Preferences", "Registry", "Registry.xml")
    gset = Case("gpotool gpo set (%d-item Registry.xml)" % XML_ITEMS,
                [GPOTOOL, "--state-dir", state, "gpo", "set", target, PFX_KEY, "EnableSidSecurityExtension", "REG_DWORD", "1"],
                setup)
    lint = Case("xmllint --noout Registry.xml", ["xmllint", "--noout", xml])
    compare(gset, [lint])
    return os.path.getsize(xml), gset, lint


def big_gpo_group(gpo):
    """gpo show and gpo set on a very large Registry.xml: both must stay linear (issue 10)."""
    pristine = os.path.join(gpo, GUID)
    target = os.path.join(WORK, "gpo-big-run", GUID)
    state = os.path.join(WORK, "state-gpo-big")

    def setup():
        shutil.rmtree(os.path.dirname(target), ignore_errors=True)
        shutil.copytree(pristine, target)
        shutil.rmtree(state, ignore_errors=True)
    xml = os.path.join(pristine, "Machine", "Preferences", "Registry", "Registry.xml")
    gset = Case("gpotool gpo set (%d-item Registry.xml)" % BIG_XML_ITEMS,
                [GPOTOOL, "--state-dir", state, "gpo", "set", target, PFX_KEY, "EnableSidSecurityExtension", "REG_DWORD", "1"],
                setup)
    show = Case("gpotool gpo show (%d-item Registry.xml)" % BIG_XML_ITEMS,
                [GPOTOOL, "--state-dir", state, "gpo", "show", pristine])
    compare(gset, [show])
    written = os.path.join(target, "Machine", "Preferences", "Registry", "Registry.xml")
    with open(written, encoding="utf-8") as f:
        if 'name="EnableSidSecurityExtension" type="REG_DWORD" value="00000001"' not in f.read():
            sys.exit("bench: %s lacks the item gpo set wrote" % written)
    return os.path.getsize(xml), gset, show


def check_value(hive, kind):
    """Outside the timing: each writer really set the value (reglookup, a third parser)."""
    path = ("/Microsoft/MicrosoftIntune/PFXCertificateConnector/EnableSidSecurityExtension" if kind == "SOFTWARE"
            else "/ControlSet001/Services/Kdc/StrongCertificateBindingEnforcement")
    if "DWORD,0x00000001" not in sh(["reglookup", "-H", "-p", path, hive]).stdout:
        sys.exit("bench: %s does not hold %s = 1 after its run" % (hive, path))


def version(cmd):
    try:
        return sh(cmd).stdout.strip().splitlines()[0]
    except (subprocess.CalledProcessError, FileNotFoundError, IndexError):
        return "?"


def pkg(name):
    return version(["dpkg-query", "-W", "-f", "${Version}", name])


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576)
    fs = version(["stat", "-f", "-c", "%T", WORK])
    return [("CPU", "%s, %d cores" % (cpu, os.cpu_count())), ("memory", mem),
            ("kernel", platform.release()), ("file system of the work directory", fs),
            ("gpotool", version([GPOTOOL, "--version"])), ("libhivex0", pkg("libhivex0")), ("libregf1", pkg("libregf1")),
            ("libwin-hivex-perl (hivexregedit)", pkg("libwin-hivex-perl")), ("chntpw (reged)", pkg("chntpw")),
            ("libxml2-utils (xmllint)", pkg("libxml2-utils")), ("coreutils (cp, cat)", pkg("coreutils"))]


def mb(kib):
    return kib / 1024.0


def main():
    gen, gpo, big = prepare()
    rows, checks = [], []
    for kind, template, reg, prefix in () if ONLY else (("SOFTWARE", "pfx-sid", "pfx.reg", "HKEY_LOCAL_MACHINE\\SOFTWARE"),
                                                         ("SYSTEM", "kdc-compat", "kdc.reg", "HKEY_LOCAL_MACHINE\\SYSTEM")):
        size, stage, cp, hx, rg, validate, cat = hive_group(gen, kind, template, os.path.join(WORK, reg), prefix)
        limit = 2.5 if kind == "SOFTWARE" else 3.0
        rows.append((kind, size, [(stage, None), (cp, stage), (hx, stage), (rg, stage), (validate, None), (cat, validate)]))
        rss_limit = 1.3 * size / 1024 + 20 * 1024
        checks += [("stage <= %.1fx cp on %s" % (limit, kind), stage.median / cp.median, stage.median / cp.median <= limit),
                   ("stage faster than hivexregedit on %s" % kind, stage.median / hx.median, stage.median < hx.median),
                   ("stage faster than reged on %s" % kind, stage.median / rg.median, stage.median < rg.median),
                   ("stage peak RSS <= 1.3 x hive + 20 MB on %s (%.0f MB)" % (kind, mb(rss_limit)), mb(stage.rss),
                    stage.rss <= rss_limit)]
    if not ONLY:
        size, gset, lint = gpo_group(gpo)
        rows.append(("Registry.xml", size, [(gset, None), (lint, gset)]))
    size, gset, show = big_gpo_group(big)
    rows.append(("Registry.xml", size, [(gset, None), (show, None)]))
    for case, what in ((gset, "gpo set"), (show, "gpo show")):
        checks += [("%s on %d items under 5 s" % (what, BIG_XML_ITEMS), case.median, case.median < 5.0),
                   ("%s on %d items: peak RSS under 4 x Registry.xml (%.0f MB)" % (what, BIG_XML_ITEMS, 4 * size / 1048576.0),
                    mb(case.rss), case.rss * 1024.0 < 4 * size)]
    report(rows, checks)


def report(rows, checks):
    out = []
    out.append("# Benchmarks\n")
    out.append("Written by `make bench` (tests/bench/bench.py) on %s; every number below comes from that one run."
               " Median of %d runs per command, pairs run alternately; each writer works on a fresh copy"
               " made outside the timed part; peak RSS from `/usr/bin/time -v`.\n" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), RUNS))
    out.append("## Machine and versions\n")
    out += ["- %s: %s" % kv for kv in machine()]
    out.append("")
    out.append("## Results\n")
    out.append("| input | command | median s | ratio (first row / this) | peak RSS MB | RSS / input |")
    out.append("|---|---|---:|---:|---:|---:|")
    for name, size, cases in rows:
        for case, ref in cases:
            ratio = "%.2fx" % (ref.median / case.median) if ref else ""
            out.append("| %s (%.1f MB) | `%s` | %.3f | %s | %.1f | %.2f |" % (name, size / 1048576.0, case.label, case.median, ratio,
                                                                         mb(case.rss), case.rss * 1024.0 / size))
    out.append("")
    out.append("\"ratio\" is the gpotool command's median divided by this command's: how many times longer gpotool takes.\n")
    out.append("## Targets from issues 6 and 10\n")
    out.append("| target | measured | met |")
    out.append("|---|---:|---|")
    for what, value, ok in checks:
        out.append("| %s | %.2f | %s |" % (what, value, "yes" if ok else "**no**"))
    out.append("")
    out.append("## Command lines\n")
    out.append("```")
    for _, _, cases in rows:
        for case, _ in cases:
            out.append(" ".join(case.cmd))
    out.append("```\n")
    out.append("Re-run: `make bench` (needs ../shared/tools/gen_hives.py; installs hivexregedit, reged, xmllint and GNU time"
               " with `make deps-bench`). BENCH_RUNS, BENCH_SYSTEM_SCALE, BENCH_SOFTWARE_SCALE, BENCH_XML_ITEMS and"
               " BENCH_BIG_XML_ITEMS change the runs and the inputs; BENCH_ONLY=big-gpo runs only the large-GPO case.\n")
    text = "\n".join(out)
    notes = os.path.join(ROOT, "tests", "bench", "notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            text += "\n" + f.read()
    with open(OUT, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
