#!/usr/bin/env python3
"""make bench: gpotool against the floor (cp, cat) and its peers (hivexregedit --merge,
reged -I, xmllint) on large realistic inputs, in one run, as ratios; then a deploy to a live
domain (issue 12) against samba-tool, on one real Samba AD DC that tests/bench/domain.sh starts (not
timed) and which runs this script again as its timing worker (BENCH_DOMAIN_RESULT set).

Each pair runs alternately (A, B, A, B, ...) so that both see the same machine state; every run
of a writer gets a fresh copy of the pristine file, made outside the timed part. The time is the
median wall-clock time of RUNS runs; the peak RSS comes from /usr/bin/time -v of each run (the
largest seen). Prints a table and writes BENCHMARKS.md. Usage: bench.py GPOTOOL WORKDIR OUT.md"""
import os
import platform
import shlex
import shutil
import json
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
# issue 12: a deploy to a live domain on loopback, not counting the DC's start; goal under 1 s
DOMAIN_RUNS = int(os.environ.get("BENCH_DOMAIN_RUNS", "10"))
DOMAIN_GOAL = 1.0
DOMAIN_DRIVER = os.path.join(ROOT, "tests", "bench", "domain.sh")
DOMAIN_SKIP = 77  # domain.sh's exit when no DC can run here
# BENCH_ONLY=big-gpo or BENCH_ONLY=domain runs only that case (neither needs the hive generator)
ONLY = os.environ.get("BENCH_ONLY", "")
GUID = "{B3C1A9E0-5D4F-4E2A-9C7B-1A2B3C4D5E6F}"
PFX_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\MicrosoftIntune\\PFXCertificateConnector"
KDC_KEY = "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Kdc"
# issue 13: a write to a dirty hive (the corpus's SYSTEM_B and its two logs) against the same write
# to that hive once clean; goal: the replay costs under 1.5x the clean write
DIRTY = os.path.join(ROOT, "..", "shared", "corpus", "hives", "regipy", "SYSTEM_B")
DIRTY_GOAL = 1.5


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


def timed(cmd, setup=None, out=None):
    """One run under /usr/bin/time -v: (wall seconds, peak RSS in KiB); its stdout into the file out
    when given (read after the run, outside the timing), else discarded."""
    if setup:
        setup()
    rss_file = os.path.join(WORK, "rss.txt")
    stdout = open(out, "w") if out else subprocess.DEVNULL
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", "-o", rss_file] + cmd, stdout=stdout, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if out:
        stdout.close()
    if p.returncode != 0:
        sys.exit("bench: %s failed (exit %d): %s" % (" ".join(cmd), p.returncode, p.stderr.decode(errors="replace")[-500:]))
    rss = 0
    with open(rss_file) as f:
        for line in f:
            if "Maximum resident set size" in line:
                rss = int(line.rsplit(":", 1)[1])
    return wall, rss


class Case:
    """A command timed RUNS times. cmd is its argument list, or a function returning the list of
    one run (a domain run names its own GPO, journal entry...), then shown is what the report
    prints for it. check, given, reads the run's stdout (outside the timing) and ends the bench
    when the run did not do its work."""
    def __init__(self, label, cmd, setup=None, shown=None, check=None):
        self.label, self.cmd, self.setup, self.check = label, cmd, setup, check
        self.shown = shown or cmd
        self.times, self.rss = [], 0

    def run(self):
        cmd = self.cmd() if callable(self.cmd) else self.cmd
        out = os.path.join(WORK, "out.txt") if self.check else None
        wall, rss = timed(cmd, self.setup, out)
        self.times.append(wall)
        self.rss = max(self.rss, rss)
        if self.check:
            with open(out) as f:
                self.check(f.read(), cmd)

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


def dirty_group():
    """hive set on a dirty SYSTEM hive with its .LOG1/.LOG2 (replay, change, clean primary, logs
    journaled) against hive set on the same hive recovered beforehand, and hive recover alone."""
    if not os.path.exists(os.path.join(DIRTY, "SYSTEM_B.xz")):
        return "no %s (the shared corpus beside this clone)" % DIRTY
    src = os.path.join(WORK, "dirty-src")
    os.makedirs(src, exist_ok=True)
    names = ("SYSTEM_B", "SYSTEM_B.LOG1", "SYSTEM_B.LOG2")
    for n in names:
        with open(os.path.join(src, n), "wb") as f:
            f.write(subprocess.run(["xz", "-dc", os.path.join(DIRTY, n + ".xz")], check=True, stdout=subprocess.PIPE).stdout)
    clean = os.path.join(WORK, "dirty-clean")
    shutil.rmtree(clean, ignore_errors=True)
    os.makedirs(clean)
    shutil.copyfile(os.path.join(src, "SYSTEM_B"), os.path.join(clean, "SYSTEM_B"))
    for n in names[1:]:
        shutil.copyfile(os.path.join(src, n), os.path.join(clean, n))
    sh([GPOTOOL, "--state-dir", os.path.join(WORK, "state-dirty-prep"), "hive", "recover", os.path.join(clean, "SYSTEM_B")],
       )
    run = os.path.join(WORK, "dirty-run")
    state = os.path.join(WORK, "state-dirty")

    def fresh(from_dir):
        def setup():
            shutil.rmtree(run, ignore_errors=True)
            shutil.rmtree(state, ignore_errors=True)
            os.makedirs(run)
            for n in names:
                shutil.copyfile(os.path.join(from_dir, n), os.path.join(run, n))
        return setup
    hive = os.path.join(run, "SYSTEM_B")
    setv = [GPOTOOL, "--state-dir", state, "hive", "set", hive, KDC_KEY, "StrongCertificateBindingEnforcement", "REG_DWORD", "2"]
    dirty = Case("gpotool hive set (dirty SYSTEM_B + .LOG1/.LOG2: replay, change, logs journaled)", setv, fresh(src),
                 check=expect("verified:", "write the dirty hive"))
    cleanw = Case("gpotool hive set (the same hive, recovered beforehand)", setv, fresh(clean),
                  check=expect("verified:", "write the clean hive"))
    rec = Case("gpotool hive recover (dirty SYSTEM_B)", [GPOTOOL, "--state-dir", state, "hive", "recover", hive], fresh(src),
               check=expect("verified:", "recover the dirty hive"))
    cp = Case("cp SYSTEM_B", ["cp", os.path.join(src, "SYSTEM_B"), os.path.join(WORK, "dirty-cp")])
    compare(dirty, [cleanw, rec, cp])
    return os.path.getsize(os.path.join(src, "SYSTEM_B")), dirty, cleanw, rec, cp


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
            ("libxml2-utils (xmllint)", pkg("libxml2-utils")), ("coreutils (cp, cat)", pkg("coreutils")),
            ("samba (the live-domain DC, samba-tool)", pkg("samba")), ("libsmbclient", pkg("libsmbclient")),
            ("libldap-2.5-0", pkg("libldap-2.5-0"))]


def mb(kib):
    return kib / 1024.0


def file_groups(rows, checks):
    """The hives and the GPO folders (issues 6 and 10): rows and checks appended to."""
    gen, gpo, big = prepare()
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
        dirty = dirty_group()
        if isinstance(dirty, str):
            checks.append(("write to a dirty hive <= %.1fx the same write to it clean (%s)" % (DIRTY_GOAL, dirty), None, None))
        else:
            size, dw, cw, rec, cp = dirty
            rows.append(("SYSTEM_B, dirty", size, [(dw, None), (cw, dw), (rec, dw), (cp, dw)]))
            checks.append(("write to a dirty hive <= %.1fx the same write to it clean" % DIRTY_GOAL, dw.median / cw.median,
                           dw.median / cw.median <= DIRTY_GOAL))
        size, gset, lint = gpo_group(gpo)
        rows.append(("Registry.xml", size, [(gset, None), (lint, gset)]))
    size, gset, show = big_gpo_group(big)
    rows.append(("Registry.xml", size, [(gset, None), (show, None)]))
    for case, what in ((gset, "gpo set"), (show, "gpo show")):
        checks += [("%s on %d items under 5 s" % (what, BIG_XML_ITEMS), case.median, case.median < 5.0),
                   ("%s on %d items: peak RSS under 4 x Registry.xml (%.0f MB)" % (what, BIG_XML_ITEMS, 4 * size / 1048576.0),
                    mb(case.rss), case.rss * 1024.0 < 4 * size)]


def expect(prefix, what, keep=None):
    """A Case check: some line of the run's stdout starts with prefix, else the bench ends saying
    the command did not do what; keep, given, is called with that line's rest."""
    def check(out, cmd):
        for line in out.splitlines():
            if line.startswith(prefix):
                if keep:
                    keep(line[len(prefix):].strip())
                return
        sys.exit("bench: %s did not %s; its output:\n%s" % (" ".join(cmd), what, out[-1500:]))
    return check


def all_of(*checks):
    """A Case check made of several."""
    def check(out, cmd):
        for one in checks:
            one(out, cmd)
    return check


# samba-tool's work, as sh -c scripts: $1 the GPO (name or GUID), $2 the LDAP URL, $3 the OU, the
# rest samba-tool's credential options. The deploy links the GUID create printed, and prints it.
SAMBA_DEPLOY = ('n=$1 h=$2 ou=$3; shift 3; out=$(samba-tool gpo create "$n" -H "$h" "$@") &&'
                ' g=$(printf "%s\\n" "$out" | sed -n "s/.* created as \\({.*}\\)$/\\1/p") && test -n "$g" &&'
                ' samba-tool gpo setlink "$ou" "$g" -H "$h" "$@" >/dev/null && echo "deployed: $g"')
SAMBA_READ = 'g=$1 h=$2 ou=$3; shift 3; samba-tool gpo show "$g" -H "$h" "$@" && samba-tool gpo getlink "$ou" -H "$h" "$@"'
SAMBA_UNDO = ('g=$1 h=$2 ou=$3; shift 3; samba-tool gpo dellink "$ou" "$g" -H "$h" "$@" >/dev/null &&'
              ' samba-tool gpo del "$g" -H "$h" "$@"')


def domain_cases(work):
    """The live-domain steps of one run, in the order they run, each gpotool step followed by
    samba-tool's comparable work: [(case, the gpotool case it is compared with, or None)]."""
    e = os.environ
    ou = "OU=Domain Controllers," + e["DC_DOMAIN_DN"]
    domain, ldap = e["DC_DNS_DOMAIN"], "ldap://" + e["DC_ADDR"]
    # Kerberos off: by default samba-tool first tries it, which cannot work with an address for a
    # name, then falls back to NTLM; off, it goes to NTLM at once (its faster way here)
    cred = ["-U%s%%%s" % (e["DC_USER"], e["DC_PASS"]), "--use-kerberos=off"]
    conn = ["--dc", e["DC_HOST"], "--resolve", "%s:%s" % (e["DC_HOST"], e["DC_ADDR"]), "--ca-file", e["DC_CA"],
            "--user", e["DC_USER"], "--password-file", e["BENCH_DC_PASSWORD_FILE"]]
    # what one run's later steps need from its earlier ones
    run = {"n": 0, "journal": None, "guid": None}

    def gpotool(*args):
        return lambda: [GPOTOOL, "--state-dir", os.path.join(work, "state-%s" % run["n"])] + [
            a() if callable(a) else a for a in args] + conn

    def samba(script, gpo):
        return lambda: ["sh", "-c", script, "sh", gpo(), ldap, ou] + cred

    def shown(cmd, hide):
        return [hide.get(a, a) for a in cmd()]
    name = lambda: "bench-K-%s" % run["n"]
    peer = lambda: "bench-S-%s" % run["n"]
    guid = lambda: run["guid"]
    journal = lambda: run["journal"]
    with_link = ["--link", ou]
    deploy_cmd = gpotool("stage", "kdc-enforce", "--domain", domain, "--gpo-name", name, "--create", *with_link)
    noop_cmd = gpotool("stage", "kdc-enforce", "--domain", domain, "--gpo-name", name, *with_link)
    validate_cmd = gpotool("validate", "kdc-enforce", "--domain", domain, "--gpo-name", name)
    rollback_cmd = gpotool("rollback", journal)
    sdeploy_cmd = samba(SAMBA_DEPLOY, peer)
    sread_cmd = samba(SAMBA_READ, guid)
    slist_cmd = lambda: ["samba-tool", "gpo", "listall", "-H", ldap] + cred
    sundo_cmd = samba(SAMBA_UNDO, guid)
    # the command lines the report shows: placeholders for what differs between runs
    run.update(n="N", journal="ID", guid="GUID")
    hide = {cred[0]: "-U%s%%PASSWORD" % e["DC_USER"], e["BENCH_DC_PASSWORD_FILE"]: "PWFILE", e["DC_CA"]: "CA.pem"}
    deploy = Case("deploy: `gpotool stage kdc-enforce --create --link` (create + stage + link + verify)", deploy_cmd,
                  shown=shown(deploy_cmd, hide),
                  check=all_of(expect("verified on ", "verify its deploy"),
                               expect("journal: ", "journal its deploy", lambda v: run.__setitem__("journal", v))))
    sdeploy = Case("`samba-tool gpo create` + `samba-tool gpo setlink`", sdeploy_cmd, shown=shown(sdeploy_cmd, hide),
                   check=expect("deployed: ", "create and link a GPO", lambda v: run.__setitem__("guid", v)))
    noop = Case("re-run: `gpotool stage kdc-enforce --link` (a no-op)", noop_cmd, shown=shown(noop_cmd, hide),
                check=expect("no change: ", "find nothing to do"))
    sread = Case("`samba-tool gpo show` + `samba-tool gpo getlink` (read the GPO and the OU's links)", sread_cmd,
                 shown=shown(sread_cmd, hide), check=expect("GPO          : {", "show the GPO"))
    validate = Case("`gpotool validate kdc-enforce`", validate_cmd, shown=shown(validate_cmd, hide),
                    check=expect("applies: linked to ", "find the GPO applied"))
    slist = Case("`samba-tool gpo listall`", slist_cmd, shown=shown(slist_cmd, hide),
                 check=expect("display name : bench-S-", "list the GPOs"))
    rollback = Case("`gpotool rollback` of the deploy (files, extension names, link)", rollback_cmd,
                    shown=shown(rollback_cmd, hide), check=expect("rolled back: ", "roll back"))
    sundo = Case("`samba-tool gpo dellink` + `samba-tool gpo del` (undo of its deploy)", sundo_cmd,
                 shown=shown(sundo_cmd, hide), check=expect("GPO {", "unlink and delete its GPO"))
    return run, [(deploy, None), (sdeploy, deploy), (noop, None), (sread, noop), (validate, None), (slist, validate),
                 (rollback, None), (sundo, rollback)]


def domain_worker(result):
    """Run by domain.sh while its DC serves: DOMAIN_RUNS runs of the steps of domain_cases, each run
    on GPOs and a state directory of its own; then, outside the timing, the OU must hold no link of
    the bench's. Writes the times to the JSON file result."""
    work = os.path.join(WORK, "domain")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    run, cases = domain_cases(work)
    load_before = os.getloadavg()[0]
    for n in range(DOMAIN_RUNS):
        run["n"] = n
        for case, _ in cases:
            case.run()
    e = os.environ
    links = sh(["samba-tool", "gpo", "getlink", "OU=Domain Controllers," + e["DC_DOMAIN_DN"], "-H", "ldap://" + e["DC_ADDR"],
                "-U%s%%%s" % (e["DC_USER"], e["DC_PASS"])]).stdout
    if "bench-" in links:
        sys.exit("bench: links of the bench's GPOs are left on the Domain Controllers OU:\n" + links)
    index = {id(case): i for i, (case, _) in enumerate(cases)}
    with open(result, "w") as f:
        json.dump({"dc": "%s at %s" % (e["DC_HOST"], e["DC_ADDR"]), "dc_times": e["BENCH_DC_TIMES"],
                   "load": [load_before, os.getloadavg()[0]],
                   "cases": [{"label": c.label, "shown": c.shown, "times": c.times, "rss": c.rss,
                              "ref": index[id(ref)] if ref else None} for c, ref in cases]}, f, indent=1)


def domain_group():
    """The live-domain section: tests/bench/domain.sh starts one DC (not timed) and runs this
    script as domain_worker. Returns (dc, dc_times, [(case, ref)]) or, when no DC can run here,
    the reason as a string."""
    result = os.path.join(WORK, "domain.json")
    if os.path.exists(result):
        os.unlink(result)
    os.makedirs(WORK, exist_ok=True)
    p = subprocess.run(["bash", DOMAIN_DRIVER, sys.executable, os.path.abspath(__file__), GPOTOOL, WORK, OUT],
                       env=dict(os.environ, BENCH_DOMAIN_RESULT=result), stdout=subprocess.PIPE, text=True)
    if p.returncode == DOMAIN_SKIP:
        reason = p.stdout.strip().splitlines()[-1]
        reason = reason[len("skip: "):] if reason.startswith("skip: ") else reason
        print("bench: live domain skipped: %s" % reason)
        return reason
    if p.returncode != 0:
        sys.exit("bench: the live-domain benchmark failed (exit %d)%s" % (p.returncode, "\n" + p.stdout if p.stdout else ""))
    with open(result) as f:
        got = json.load(f)
    cases = []
    for c in got["cases"]:
        case = Case(c["label"], c["shown"])
        case.times, case.rss = c["times"], c["rss"]
        cases.append((case, cases[c["ref"]][0] if c["ref"] is not None else None))
    return got["dc"], got["dc_times"], cases, got["load"]


def main():
    if os.environ.get("BENCH_DOMAIN_RESULT"):
        domain_worker(os.environ["BENCH_DOMAIN_RESULT"])
        return
    rows, checks = [], []
    if ONLY != "domain":
        file_groups(rows, checks)
    domain = domain_group() if ONLY in ("", "domain") else None
    if isinstance(domain, tuple):
        deploy = domain[2][0][0]
        checks.append(("live-domain deploy (create + stage + link + verify) under %.0f s, median s" % DOMAIN_GOAL,
                       deploy.median, deploy.median < DOMAIN_GOAL))
    elif domain:
        checks.append(("live-domain deploy under %.0f s" % DOMAIN_GOAL, None, None))
    report(rows, checks, domain)


def domain_report(domain):
    """The live-domain section's lines: domain is domain_group's answer (None when not run)."""
    out = ["## Live domain (issue 12)\n"]
    if isinstance(domain, str):
        return out + ["Skipped: %s. (The section needs root and the packages `make deps-domain` installs.)\n" % domain]
    dc, dc_times, cases, load = domain
    out.append("One Samba AD DC, %s, started by tests/bench/domain.sh before any timing (%s; not counted)."
               " %d runs; in each, the four gpotool steps on a GPO of that run (bench-K-N, a state directory of its own),"
               " each followed by samba-tool's comparable work (on bench-S-N): deploy, re-run, validate, rollback."
               " gpotool: LDAP with StartTLS and a simple bind, SMB, the password from --password-file; samba-tool:"
               " -H ldap://ADDRESS, NTLM with --use-kerberos=off (its default first tries Kerberos, which fails with an"
               " address for a name, 0.05-0.1 s per command here). Each run's output is checked outside the timing (gpotool: `verified on`,"
               " `no change:`, `applies:`, `rolled back:`), and at the end the OU holds no link of the bench's."
               " The machine's 1-minute load average was %.1f before the runs and %.1f after (%d cores): the DC shares"
               " them with both clients, so a loaded machine raises every row; the ratios, from paired runs, vary less.\n"
               % (dc, dc_times, DOMAIN_RUNS, load[0], load[1], os.cpu_count()))
    out.append("| step | command | median s | min s | max s | ratio (gpotool / this) | peak RSS MB |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    for case, ref in cases:
        ratio = "%.2fx" % (ref.median / case.median) if ref else ""
        out.append("| %s | %s | %.3f | %.3f | %.3f | %s | %.1f |" % (
            "samba-tool" if ref else "gpotool", case.label, case.median, min(case.times), max(case.times), ratio, mb(case.rss)))
    out.append("")
    out.append("samba-tool writes no setting: `gpo create` + `setlink` make and link an empty GPO, where gpotool's deploy"
               " also writes Registry.xml and GPT.INI, raises versionNumber, adds the extension names and reads it all"
               " back. (`samba-tool gpo manage security set`, which would write a setting, fails on 4.17 over"
               " `-H ldap://ADDRESS` with NT_STATUS_INVALID_PARAMETER at its SMB mkdir.) Its undo deletes the GPO;"
               " gpotool's rollback keeps it, restores the files and takes out the extension names and the link.\n")
    return out


def report(rows, checks, domain=None):
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
    if domain:
        out += domain_report(domain)
    out.append("## Targets from issues 6, 10, 12 and 13\n")
    out.append("| target | measured | met |")
    out.append("|---|---:|---|")
    for what, value, ok in checks:
        if value is None:
            out.append("| %s | skipped | |" % what)
        else:
            out.append("| %s | %.2f | %s |" % (what, value, "yes" if ok else "**no**"))
    out.append("")
    out.append("## Command lines\n")
    out.append("```")
    for _, _, cases in rows:
        for case, _ in cases:
            out.append(" ".join(case.cmd))
    if isinstance(domain, tuple):
        for case, _ in domain[2]:
            out.append(shlex.join(case.shown))
    out.append("```\n")
    out.append("Re-run: `make bench` (needs ../shared/tools/gen_hives.py; installs hivexregedit, reged, xmllint and GNU time"
               " with `make deps-bench`). BENCH_RUNS, BENCH_SYSTEM_SCALE, BENCH_SOFTWARE_SCALE, BENCH_XML_ITEMS and"
               " BENCH_BIG_XML_ITEMS change the runs and the inputs; BENCH_ONLY=big-gpo runs only the large-GPO case."
               " The live-domain part runs as root with the packages of `make deps-domain` (else it is skipped, saying why);"
               " BENCH_DOMAIN_RUNS changes its runs, BENCH_ONLY=domain runs only it.\n")
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
