"""ocitest's reports plugin: catalogue markers, outcomes, known failures, report files, gate.

Worker side: validates requirement markers at collection, decides `not-required` before
a test runs, classifies each phase's outcome (with known failures applied) and attaches
it to the phase report. Controller side: rebuilds the records, writes the report
directory (results.json, junit.xml, report.html, summary.md) and sets the exit status
from the gate. Written also when the run is interrupted, marked incomplete.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

from infra import specversion
from infra.kinds import fixtures
from infra.outcomes import classify_skip, not_required
from infra.plugin import (
    kind_schemas,
    leftovers,
    run_context,
    subject_facts,
    target_facts,
    target_logs,
    target_specs,
    used_kinds,
)
from infra.redact import scrub_command
from infra.redact_plugin import scrub_report
from infra.subjects import Subject
from reports import gate as gate_mod
from reports.catalogue import Catalogue, CatalogueError, catalogue_files, load_catalogue
from reports.known_failures import KnownFailuresError, find, load_known_failures
from reports.peers import PeersError
from reports.peers import load as peers_load
from reports.performance import PerformanceError
from reports.performance import load as perf_load
from reports.proofs import ProofsError, load_proofs, load_score
from reports.records import PROP, RecordBook
from reports.reportdir import ReportDirError, check_report_dir
from reports.variants import CLASSES, unknown_classes
from reports.writer import ReportInput, write_all

CATALOGUE = pytest.StashKey[Catalogue]()
KNOWN = pytest.StashKey[list]()
BOOK = pytest.StashKey[RecordBook]()
STARTED = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("ocitest-report", "ocitest reports and gate")
    g.addoption(
        "--report-dir",
        dest="ocitest_report_dir",
        default="ocitest-report",
        metavar="DIR",
        help="where the report files go (default ./ocitest-report)",
    )
    g.addoption(
        "--known-failures",
        dest="ocitest_known_failures",
        default=None,
        metavar="FILE",
        help="YAML list of known failures with reasons",
    )
    g.addoption(
        "--gate",
        dest="ocitest_gate",
        default="MUST",
        help="MUST (default), SHOULD or none: which failures fail the run",
    )
    g.addoption(
        "--performance",
        dest="ocitest_performance",
        default=None,
        metavar="FILE",
        help="a performance.json (./ocitest bench) to show in report.html (default: the "
        "report directory's own, when there is one)",
    )
    g.addoption(
        "--peers",
        dest="ocitest_peers",
        default=None,
        metavar="FILE",
        help="a peers.json (./ocitest peers) to show in report.html (default: the report "
        "directory's own, when there is one)",
    )


def _one_line(exc: Exception) -> pytest.UsageError:
    """A usage error of one line, whatever the path or value it names holds."""
    return pytest.UsageError(" ".join(str(exc).splitlines()))


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.option.ocitest_gate not in gate_mod.MODES:
        raise pytest.UsageError(
            f"--gate {config.option.ocitest_gate!r}: expected one of {', '.join(gate_mod.MODES)}"
        )
    config.addinivalue_line(
        "markers",
        "variant(*classes): the variant classes (reports/variants.py) a test or a "
        "parameter case checks its requirements in",
    )
    try:
        cat = load_catalogue(catalogue_files(config.rootpath))
    except CatalogueError as exc:
        raise _one_line(exc) from None
    config.stash[CATALOGUE] = cat
    for option, value in (
        ("--known-failures", config.option.ocitest_known_failures),
        ("--report-dir", config.option.ocitest_report_dir),
        ("--peers", config.option.ocitest_peers),
        ("--performance", config.option.ocitest_performance),
    ):
        if value is not None and not value.strip():
            raise pytest.UsageError(f"{option}: empty value")
    known = []
    if config.option.ocitest_known_failures:
        try:
            known = load_known_failures(
                config.option.ocitest_known_failures, set(cat), root=config.rootpath
            )
        except KnownFailuresError as exc:
            raise _one_line(exc) from None
    config.stash[KNOWN] = known
    if config.option.ocitest_peers:  # before the report directory is made
        try:
            peers_load(config.option.ocitest_peers)
        except PeersError as exc:
            raise _one_line(exc) from None
    if config.option.ocitest_performance:
        try:
            perf_load(config.option.ocitest_performance, "--performance")
        except PerformanceError as exc:
            raise _one_line(exc) from None
    if hasattr(config, "workerinput"):
        return
    config.stash[STARTED] = time.time()
    ctx = run_context(config)
    config.stash[BOOK] = RecordBook(ctx.target_spec)
    config.pluginmanager.register(_RecordCollector(config.stash[BOOK]), "ocitest-records")
    if not config.option.collectonly:
        try:
            check_report_dir(config.option.ocitest_report_dir)
        except ReportDirError as exc:
            raise _one_line(exc) from None


def _in_suites(config: pytest.Config, path: Path) -> bool:
    try:
        return path.relative_to(config.rootpath).parts[0] == "suites"
    except (ValueError, IndexError):
        return False


def requirement_ids(item: pytest.Item) -> list[str]:
    return [i for m in item.iter_markers("requirement") for i in m.args]


def variant_classes(item: pytest.Item) -> list[str]:
    """The variant classes of a test or parameter case, in marker order, each once."""
    return list(dict.fromkeys(c for m in item.iter_markers("variant") for c in m.args))


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """A suite test without requirement ids, or with an id not in the catalogue, is a
    collection error of its module."""
    rep = yield
    if not isinstance(collector, pytest.Module) or not _in_suites(collector.config, collector.path):
        return rep
    if rep.outcome != "passed":
        return rep
    cat = collector.config.stash[CATALOGUE]
    problems = []
    for item in rep.result:
        items = [item] if isinstance(item, pytest.Item) else []
        if isinstance(item, pytest.Class):
            continue
        for it in items:
            ids = requirement_ids(it)
            if not ids:
                problems.append(f"{it.name}: no @pytest.mark.requirement(...) id")
            for rid in ids:
                if rid not in cat:
                    problems.append(
                        f"{it.name}: requirement id {rid!r} is not in any "
                        "suites/*/requirements.yaml"
                    )
                elif not cat[rid].testable:
                    problems.append(f"{it.name}: requirement {rid!r} is marked testable: false")
            if any(not m.args for m in it.iter_markers("variant")):
                problems.append(f"{it.name}: @pytest.mark.variant() names no class")
            for c in unknown_classes(variant_classes(it)):
                problems.append(
                    f"{it.name}: variant class {c!r} is not one of {', '.join(CLASSES)}"
                )
    if problems:
        rep.outcome = "failed"
        rep.longrepr = "ocitest catalogue check failed:\n" + "\n".join(problems)
    return rep


def _subject_of(item: pytest.Item) -> Subject | None:
    """The subject a test runs against: the parameter of its kind's fixture (or None)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    for fixture in fixtures():
        value = params.get(fixture)
        if isinstance(value, Subject):
            return value
    return None


def _target_of(subject: Subject | None) -> str:
    """The target spec of the test's subject ("" for a test without one)."""
    return getattr(subject, "target", "") if subject is not None else ""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """`not-required` when the subject's declared version is outside every id's range."""
    ids = requirement_ids(item)
    subject = _subject_of(item)
    if not ids or subject is None or not subject.spec_version:
        return
    cat = item.config.stash[CATALOGUE]
    snap = specversion.snapshot_of(
        getattr(subject, "version_output", ""), subject.version, subject.spec_version
    )
    why = []
    for rid in ids:
        req = cat[rid]
        try:
            if specversion.holds(subject.spec_version, req.since, req.until, rid, snap):
                return  # at least one id applies
        except ValueError:
            return
        span = f"since {req.since}" if req.since else f"until {req.until}"
        why.append(f"{rid} holds {span} ({req.spec})")
    at = f" (runtime-spec {snap.commit}, the text it vendors)" if snap else ""
    not_required(f"{subject.id} declares {subject.spec_version}{at}; " + "; ".join(why))


def _message(rep) -> str:
    if rep.passed:
        return ""
    if rep.skipped and isinstance(rep.longrepr, tuple):
        return str(rep.longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(rep.longrepr, "reprcrash", None)
    text = str(rep.longrepr) if rep.longrepr is not None else ""
    if crash is not None and getattr(rep, "_ocitest_assertion", False):
        # our own message, without pytest's "assert ..." introspection after it
        # without the exception's type ("AssertionError: ", "suites....Failed: ")
        msg = re.sub(r"^[A-Za-z_][\w.]*: ", "", crash.message, count=1)
        return msg.split("\nassert ", 1)[0]
    return text


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    redactions = scrub_report(rep)  # before pytest prints it or xdist sends it on
    ids = requirement_ids(item)
    if not ids and not _in_suites(item.config, item.path):
        return rep
    cat = item.config.stash[CATALOGUE]
    subject = _subject_of(item)
    sid = subject.id if subject is not None else None
    if rep.passed:
        outcome = "passed"
    elif rep.skipped:
        outcome = "xfail" if hasattr(rep, "wasxfail") else classify_skip(_message(rep))
    else:
        is_assert = call.excinfo is not None and call.excinfo.errisinstance(AssertionError)
        outcome = "failed" if is_assert else "error"
        rep._ocitest_assertion = is_assert
    known = None
    if rep.when in ("setup", "call") and outcome in ("failed", "error", "passed"):
        kf = find(item.config.stash[KNOWN], item.nodeid, sid, ids, _target_of(subject))
        if kf is not None and outcome in ("failed", "error"):
            known = kf.as_dict()
            outcome = "xfail"
            rep.outcome, rep.wasxfail = "skipped", f"known failure: {kf.reason}"
        elif kf is not None and rep.when == "call" and kf.intermittent:
            known = kf.as_dict()  # a race that did not show this time: not stale
        elif kf is not None and rep.when == "call":
            known = kf.as_dict()
            outcome = "stale"
            rep.outcome = "failed"
            rep.longrepr = (
                f"stale known failure: this test now passes for {sid}, but "
                f"--known-failures still lists it ({kf.reason}); remove the entry"
            )
    message = _message(rep) if outcome != "passed" else ""
    rep.user_properties.append(
        (
            PROP,
            {
                "outcome": outcome,
                "requirements": ids,
                "variants": variant_classes(item),
                "level": cat.strictest(ids),
                "subject": sid,
                "target": _target_of(subject),
                "message": message,
                "known_failure": known,
                "redactions": redactions,
            },
        )
    )
    return rep


class _RecordCollector:
    """Registered on the controller only: feeds every phase report into the book."""

    def __init__(self, book: RecordBook) -> None:
        self.book = book

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.book.add(report)


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session: pytest.Session):
    """An interrupt while the session starts (embedded services coming up) still leaves
    an incomplete report: pytest calls no pytest_sessionfinish in that case."""
    try:
        return (yield)
    except KeyboardInterrupt:
        finish_report(session, pytest.ExitCode.INTERRUPTED)
        raise


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    finish_report(session, exitstatus)


def finish_report(session: pytest.Session, exitstatus: int) -> None:
    """Controller: write the report and set the exit status from the gate."""
    config = session.config
    if hasattr(config, "workerinput") or BOOK not in config.stash:
        return
    if not any(used for _, used in used_kinds(config)) or config.option.collectonly:
        return
    if exitstatus in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        return  # nothing ran: leave any earlier report as it was
    records = config.stash[BOOK].finish()
    interrupted = exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
    if not records and exitstatus != pytest.ExitCode.INTERRUPTED:
        return  # nothing ran (e.g. a collection or internal error): keep any earlier report
    verdict = gate_mod.judge(records, config.option.ocitest_gate)
    if interrupted:
        verdict.passed = False
        verdict.reasons.append("the run was interrupted or the harness broke: results are partial")
    left = leftovers(config)
    if left:
        verdict.passed = False
        verdict.reasons.append(f"leak: the sweeper had to remove {len(left)} objects")
    path = write_all(_report_input(config, records, verdict, interrupted, left), report_dir(config))
    lines = [
        f"ocitest: report written to {path}/report.html ; gate {verdict.mode}: "
        f"{'passed' if verdict.passed else 'FAILED'}"
    ]
    lines += [f"  gate: {r}" for r in verdict.reasons[:20]]
    if len(verdict.reasons) > 20:
        lines.append(f"  gate: ... and {len(verdict.reasons) - 20} more (see summary.md)")
    config.stash[LINES] = lines
    if config.pluginmanager.get_plugin("terminalreporter") is None:
        print("\n".join(lines))
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = verdict.exit_status


LINES = pytest.StashKey[list]()


def _report_input(
    config: pytest.Config, records: list, verdict, interrupted: bool, left: list[str]
) -> ReportInput:
    """The report's inputs, gathered from pytest's config and the infra plugin."""
    ctx = run_context(config)
    try:
        proofs = load_proofs()
    except ProofsError as exc:  # the report still comes out, without proofs
        print(f"\nocitest: {exc}")
        proofs = {}
    return ReportInput(
        run_id=ctx.run_id,
        records=records,
        verdict=verdict,
        catalogue=config.stash[CATALOGUE],
        known=config.stash[KNOWN],
        subjects=subject_facts(config),
        targets=target_facts(config),
        schemas=kind_schemas(config),
        proofs=proofs,
        options={
            "gate": config.option.ocitest_gate,
            "known_failures": config.option.ocitest_known_failures,
            "target": " ".join(target_specs(config)),
            "report_dir": report_dir(config),
            "workers": getattr(config.option, "numprocesses", None),
        },
        command=scrub_command(["pytest", *sys.argv[1:]]),
        started=config.stash[STARTED],
        interrupted=interrupted,
        leftovers=left,
        performance=config.option.ocitest_performance,
        peers=config.option.ocitest_peers,
        mutation=load_score(),
        logs=target_logs(config),
    )


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """The report's path and the gate's verdict, as the last lines before pytest's own."""
    lines = config.stash.get(LINES, [])
    if lines:
        terminalreporter.ensure_newline()
        terminalreporter.section("ocitest", sep="-")
        for line in lines:
            terminalreporter.write_line(line)


def report_dir(config: pytest.Config) -> str:
    return os.path.abspath(config.option.ocitest_report_dir)
