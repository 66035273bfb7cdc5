"""ocitest's redaction plugin: `--redact`, the run's secrets on every process, clean reports.

- `--redact REGEX` (repeatable): what only the user knows to be secret; a bad regex (or
  one matching the empty string) is a one-line usage error (exit 4).
- The controller's redactor (infra/redact.py: the user's patterns, secrets from the
  environment, and those the services add once started, e.g. the embedded registry's
  password) reaches each xdist worker through `workerinput`, never through a file.
- `scrub_report` scrubs a test's phase report (failure text and its crash line,
  captured output, user properties such as the evidence) in place; the reports plugin
  calls it where it turns a report into a record, before pytest prints the report or
  xdist sends it to the controller.
- A worker hands what it learnt (e.g. bearer tokens) back through `workeroutput`.
- When the environment names a file in OCITEST_SECRETS_FILE, the controller writes the
  run's secrets there at the end (mode 0600), for `./ocitest test`'s scan of the report
  (`python -m infra.redact scan`); the caller keeps it outside the report directory
  and removes it.
"""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from infra import redact
from infra.redact import SECRETS_ENV

_KEY = "ocitest_redact"
#: fields of pytest's report objects that are never text to scrub
_KEEP = frozenset({"style", "lineno", "path", "when", "outcome", "nodeid", "location"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("ocitest-report").addoption(
        "--redact",
        dest="ocitest_redact",
        action="append",
        default=[],
        metavar="REGEX",
        help="redact what matches REGEX wherever the run records or reports it (repeatable)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    r = redact.active()
    for value in redact.from_environment(os.environ):
        r.add_secret(value)
    if hasattr(config, "workerinput"):
        r.load(json.loads(config.workerinput.get(_KEY, "{}")))
        return
    for i, rx in enumerate(config.option.ocitest_redact or [], 1):
        try:
            r.add_pattern(rx)
        except ValueError as exc:  # the regex itself is not echoed: it may be the secret
            raise pytest.UsageError(f"--redact (#{i}): {exc}".replace("\n", " ")) from None


def pytest_configure_node(node) -> None:  # xdist hook, controller side
    """Hand the secrets known now (after the services started) to a worker."""
    node.workerinput[_KEY] = json.dumps(redact.active().to_dict())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # xdist hook, controller side
    """Learn the secrets a worker found (bearer tokens the registry driver got)."""
    data = getattr(node, "workeroutput", {}).get(_KEY)
    if data:
        redact.active().load(json.loads(data))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a worker: hand its secrets to the controller (xdist sends `workeroutput` after
    this hook)."""
    if hasattr(session.config, "workerinput"):
        session.config.workeroutput[_KEY] = json.dumps(redact.active().to_dict())


def pytest_unconfigure(config: pytest.Config) -> None:
    path = os.environ.get(SECRETS_ENV)
    if not path or hasattr(config, "workerinput"):
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(redact.active().to_dict(), fh)


def scrub_report(rep) -> int:
    """Scrub a pytest phase report in place; returns how many values were redacted."""
    total = 0
    seen: set[int] = set()
    for attr in ("longrepr", "sections", "user_properties"):
        value = getattr(rep, attr, None)
        if value is not None:
            new, n = _scrub(value, seen)
            if n:
                setattr(rep, attr, new)
                total += n
    return total


def _scrub(obj, seen: set[int]):
    """(`obj` with every string in it scrubbed, count): strings are replaced, lists,
    dicts and pytest's repr dataclasses changed in place, tuples rebuilt."""
    if isinstance(obj, str):
        return redact.scrub(obj)
    if id(obj) in seen or obj is None or isinstance(obj, (int, float, bool)):
        return obj, 0
    seen.add(id(obj))
    total = 0
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            obj[i], n = _scrub(v, seen)
            total += n
        return obj, total
    if isinstance(obj, tuple):
        items = []
        for v in obj:
            v, n = _scrub(v, seen)
            items.append(v)
            total += n
        return (tuple(items) if total else obj), total
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k], n = _scrub(obj[k], seen)
            total += n
        return obj, total
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            if f.name in _KEEP:
                continue
            new, n = _scrub(getattr(obj, f.name), seen)
            if n:
                object.__setattr__(obj, f.name, new)
                total += n
        return obj, total
    return obj, 0
