"""What ocitest's runtime mutants share: the wrapped runtime's command line, the base
`Wrapper`, and the bases of mutants that edit config.json or rewrite printed JSON.

Imported by runtime_mutant.py, which runs under the system python with -I: standard
library only. See declare.py for how a mutant is declared on one of these classes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

VALUE_FLAGS = {"--root", "--log", "--log-format", "--criu", "--rootless"}
TIMEOUT = 60


def split(argv: list[str]) -> tuple[list[str], str, list[str]]:
    """(global options, command, command arguments) of a runc-style command line."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in VALUE_FLAGS:
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return argv[:i], a, argv[i + 1 :]
    return argv, "", []


def positional(args: list[str]) -> list[str]:
    """The positional arguments of a command (flags taking a value are known ones)."""
    out, skip = [], False
    takes_value = {
        "--bundle",
        "-b",
        "--pid-file",
        "--console-socket",
        "--preserve-fds",
        "--format",
        "-f",
    }
    for a in args:
        if skip:
            skip = False
            continue
        if a in takes_value:
            skip = True
            continue
        if not a.startswith("-"):
            out.append(a)
    return out


class Wrapper:
    """A runtime wrapping the real one `base`: `run()` passes the command line through
    unless a subclass changes what one command does."""

    def __init__(self, base: str, argv: list[str]) -> None:
        self.base = base
        self.argv = argv
        self.globals, self.command, self.args = split(argv)
        self.ids = positional(self.args)

    def real(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.base, *self.globals, *args], timeout=TIMEOUT, capture_output=True, text=True, **kw
        )

    def state(self, cid: str) -> dict | None:
        res = self.real("state", cid)
        if res.returncode != 0:
            return None
        try:
            return json.loads(res.stdout)
        except ValueError:
            return None

    def passthrough(self) -> int:
        os.execv(self.base, [self.base, *self.argv])
        return 127  # not reached

    def run(self) -> int:
        return self.passthrough()


# --- the mutants ----------------------------------------------------------------------
class ConfigEditing(Wrapper):
    """Base: create with an edited config.json (restored right after create)."""

    def edit(self, cfg: dict) -> bool:
        """Change `cfg` in place; return False to leave this create alone."""
        raise NotImplementedError

    def run(self) -> int:
        if self.command != "create" or not self.ids:
            return self.passthrough()
        path = os.path.join(_bundle_of(self.args), "config.json")
        try:
            with open(path) as fh:
                original = fh.read()
            cfg = json.loads(original)
        except (OSError, ValueError):
            return self.passthrough()
        if not self.edit(cfg):
            return self.passthrough()
        return self.create_with(path, json.dumps(cfg), original)

    def create_with(self, path: str, text: str, original: str) -> int:
        """Run the base's create with `text` as config.json at `path`; `original` is
        written back after it, whatever happens."""
        with open(path, "w") as fh:
            fh.write(text)
        try:
            return subprocess.run([self.base, *self.argv], timeout=TIMEOUT).returncode
        finally:
            with open(path, "w") as fh:
                fh.write(original)


class EditsConfig(ConfigEditing):
    """A mutant declared with @edit_mutant (see declare.py): `editor` edits config.json."""

    editor = staticmethod(lambda cfg: False)

    def edit(self, cfg: dict) -> bool:
        return bool(self.editor(cfg))


class RewritesJson(Wrapper):
    """Base: the JSON a command prints is rewritten by `rewrite(doc)`."""

    rewritten = "features"  # the command whose output is rewritten

    def rewrite(self, doc: dict) -> None:
        raise NotImplementedError

    def run(self) -> int:
        if self.command != self.rewritten or (self.rewritten == "state" and not self.ids):
            return self.passthrough()
        res = self.real(self.command, *self.args)
        if res.returncode != 0:
            sys.stderr.write(res.stderr)
            return res.returncode
        doc = json.loads(res.stdout)
        self.rewrite(doc)
        print(json.dumps(doc))
        return 0


class RewritesFeatures(RewritesJson):
    """A mutant declared with @features_mutant: `features` prints a rewritten document."""

    rewriter = staticmethod(lambda doc: None)

    def rewrite(self, doc: dict) -> None:
        self.rewriter(doc)


class ClaimsVersion(RewritesJson):
    """A mutant declared with @claims_mutant: declares a newer runtime-spec version in
    features.ociVersionMax and in `--version`'s spec line."""

    version = "1.3.0"

    def rewrite(self, doc: dict) -> None:
        doc["ociVersionMax"] = self.version

    def run(self) -> int:
        if self.command == "" and any(a in ("--version", "-v") for a in self.globals):
            res = self.real(*self.globals)
            lines = [
                f"spec: {self.version}" if ln.startswith("spec:") else ln
                for ln in res.stdout.splitlines()
            ]
            print("\n".join(lines))
            return res.returncode
        return super().run()


class EditsClaimingVersion(EditsConfig):
    """An @edit_mutant(claims=VERSION): edits config.json at create and, for every
    other command, behaves as a ClaimsVersion mutant of that version."""

    version = "1.3.0"

    def run(self) -> int:
        if self.command == "create":
            return super().run()
        claims = type("Claims", (ClaimsVersion,), {"version": self.version})
        return claims(self.base, self.argv).run()


class ClaimingWrapper(ClaimsVersion):
    """A @runtime_mutant(claims=VERSION): `inner` (a Wrapper subclass) does every command
    but `--version` and `features`, which declare VERSION as a ClaimsVersion does."""

    inner = Wrapper

    def run(self) -> int:
        asks_version = self.command == "" and any(a in ("--version", "-v") for a in self.globals)
        if asks_version or self.command == "features":
            return super().run()
        return self.inner(self.base, self.argv).run()


class StateRewriting(RewritesJson):
    """Base: the state JSON is rewritten by `rewrite(doc)`."""

    rewritten = "state"


def _bundle_of(args: list[str]) -> str:
    for i, a in enumerate(args):
        if a in ("--bundle", "-b") and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--bundle="):
            return a.split("=", 1)[1]
    return os.getcwd()


def _root(globals_: list[str]) -> str:
    for i, a in enumerate(globals_):
        if a == "--root" and i + 1 < len(globals_):
            return globals_[i + 1]
        if a.startswith("--root="):
            return a.split("=", 1)[1]
    return "/run/runc"


def _note_created(globals_: list[str], cid: str) -> None:
    with open(_root(globals_).rstrip("/") + ".mutant-created", "a") as fh:
        fh.write(cid + "\n")


def _was_created(globals_: list[str], cid: str) -> bool:
    try:
        with open(_root(globals_).rstrip("/") + ".mutant-created") as fh:
            return cid in fh.read().split()
    except OSError:
        return False
