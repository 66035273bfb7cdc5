"""Subjects newer than Debian's, built at setup from their Go modules (issue 12).

Standard library only: `./ocitest setup` runs it before the virtualenv exists. When `go`
is on PATH, each pinned module is built with the ordinary go client from the module
proxy this machine is configured with (`go env GOPROXY`), checksums verified against
go.sum and the checksum database as usual, each module with its own go.mod pins
(`go install MODULE/PKG@VERSION`). Results are cached by module@version under the
harness cache:

    CACHE/go/mod/                              GOMODCACHE (private to the harness)
    CACHE/go/gocache/                          GOCACHE
    CACHE/go/builds/MODULE@VERSION/bin/NAME    the binaries
    CACHE/go/builds/MODULE@VERSION/build.json  {module, version, go, packages, tags,
                                                binaries: {name: sha256}, seconds}
    CACHE/go/schemas/SPEC@VERSION/schema/      the official JSON schemas of a spec module
    CACHE/go/schemas/SPEC@VERSION/specs-go/version.go

Each build and each schema copy runs under an exclusive flock of its own lock file, so
concurrent setups (xdist, several users) build once; a finished build is renamed into
place with its build.json, so a killed build leaves nothing that looks finished.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: the cache root of root's runs (infra/run.py CACHE_DIR); users: see `cache_root`
SYSTEM_CACHE = "/var/cache/ocitest"
#: seconds one `go install` may take (containerd cold on 2 cores: a few minutes)
BUILD_TIMEOUT = 1800
#: seconds a `go mod download` may take
DOWNLOAD_TIMEOUT = 600
#: environment variable choosing the builds: unset (the default selection), "none",
#: "all", or a comma list of build names ("runc,umoci")
SELECT_ENV = "OCITEST_GO_BUILDS"
#: lines of a failed build's output that setup prints
TAIL_LINES = 8


@dataclass(frozen=True)
class GoBuild:
    """One pinned Go module built into subject binaries.

    Attributes:
        name: the subject's base name; its id is NAME-VERSION without the "v" (runc-1.5.3).
        module: the module path (github.com/opencontainers/runc).
        version: the module version, with its "v" (v1.5.3).
        packages: package paths inside the module to install ("" is the module root).
        tags: Go build tags (runc's "seccomp" needs libseccomp-dev and pkg-config).
        default: built when no selection is given (what the default suites use).
        subject: the binary that is the subject (a runtime's), or "" for peers' tools.
        in_module: build with `go build` in a copy of the downloaded module, for a module
            whose go.mod has replace directives (which `go install ...@version` refuses).
        test_binary: the one package is a test binary (critest: its main is a _test.go
            file), built with `go test -c` in a copy of the module (implies in_module).
        go_mod: for a module published without go.mod (runtime-tools v0.9.0, Godeps
            only), a directory of this checkout holding the go.mod and go.sum of ours
            that pin its dependencies; copied into the module's copy (in_module builds).
            A package "DIR/..." builds every command below DIR (not checked by name).
        keep: files of the module copied beside the binaries (data its programs read).
    """

    name: str
    module: str
    version: str
    packages: tuple[str, ...]
    tags: tuple[str, ...] = ()
    default: bool = False
    subject: str = ""
    in_module: bool = False
    test_binary: bool = False
    go_mod: str = ""
    keep: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """module@version, the cache key."""
        return f"{self.module}@{self.version}"

    @property
    def subject_id(self) -> str:
        """The subject id this build gives (runc-1.5.3)."""
        return f"{self.name}-{self.version.lstrip('v')}"

    @property
    def binaries(self) -> tuple[str, ...]:
        """The file names `go install` writes (each package's last path element)."""
        return tuple(
            (p.rsplit("/", 1)[-1] if p else self.module.rsplit("/", 1)[-1])
            for p in self.packages
            if not p.endswith("/...")
        )

    def targets(self) -> list[str]:
        return [f"{self.module}/{p}@{self.version}" if p else self.key for p in self.packages]


#: what setup builds. `default`: needed by the suites a plain run selects (runc for the
#: runtime suite, containerd 2.4.2 for the CRI suite: a subject through
#: infra/services/containerd.py, `built_dir`); umoci is a converter subject when built
#: (infra/kinds/converter.py; not a default build); ggcr gives `crane` (a peer
#: validator, issue 10) and its `registry` (a second registry, issue 12);
#: distspec-conformance is distribution-spec's conformance suite and critest cri-tools'
#: CRI validation suite and benchmark, peers that `./ocitest peers` runs
#: (benchmarks/peers/registry_peers.py, cri_peers.py; never in a conformance run or CI)
BUILDS: dict[str, GoBuild] = {
    b.name: b
    for b in (
        GoBuild(
            "runc",
            "github.com/opencontainers/runc",
            "v1.5.3",
            ("",),
            tags=("seccomp",),
            default=True,
            subject="runc",
        ),
        GoBuild(
            "containerd",
            "github.com/containerd/containerd/v2",
            "v2.4.2",
            ("cmd/containerd", "cmd/containerd-shim-runc-v2", "cmd/ctr"),
            default=True,
        ),
        GoBuild(
            "umoci", "github.com/opencontainers/umoci", "v0.6.0", ("cmd/umoci",), in_module=True
        ),
        GoBuild(
            "ggcr",
            "github.com/google/go-containerregistry",
            "v0.22.1",
            ("cmd/crane", "cmd/registry"),
        ),
        GoBuild(
            "distspec-conformance",
            "github.com/opencontainers/distribution-spec/conformance",
            "v0.0.0-20260831232431-97274622c111",
            ("",),
        ),
        GoBuild("critest", "sigs.k8s.io/cri-tools", "v1.37.0", ("cmd/critest",), test_binary=True),
        GoBuild(
            "runtime-tools",
            "github.com/opencontainers/runtime-tools",
            "v0.9.0",
            ("cmd/runtimetest", "validation/..."),
            in_module=True,
            go_mod="benchmarks/peers/runtime-tools",
            keep=("rootfs-amd64.tar.gz",),
        ),
    )
}

#: spec modules whose schema/ directories setup copies: spec -> (module, version)
SCHEMA_MODULES: dict[str, tuple[str, str]] = {
    "runtime-spec": ("github.com/opencontainers/runtime-spec", "v1.3.0"),
    "image-spec": ("github.com/opencontainers/image-spec", "v1.1.1"),
}


class SelectionError(ValueError):
    """OCITEST_GO_BUILDS names a build that does not exist (one line)."""


def cache_root() -> Path:
    """The harness cache of this user: $OCITEST_CACHE, root's /var/cache/ocitest, else
    $XDG_CACHE_HOME/ocitest or ~/.cache/ocitest (the rootless layout of infra/run.py)."""
    env = os.environ.get("OCITEST_CACHE")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path(SYSTEM_CACHE)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "ocitest" if xdg else Path.home() / ".cache" / "ocitest"


def _go_dir(root: Path | None = None) -> Path:
    return (root or cache_root()) / "go"


def build_dir(build: GoBuild, root: Path | None = None) -> Path:
    return _go_dir(root) / "builds" / build.key


def schema_home(spec: str, root: Path | None = None) -> Path:
    version = SCHEMA_MODULES[spec][1]
    return _go_dir(root) / "schemas" / f"{spec}@{version}"


def _roots() -> list[Path]:
    """Where to look for finished builds: this user's cache, then root's."""
    out = [cache_root()]
    if Path(SYSTEM_CACHE) not in out:
        out.append(Path(SYSTEM_CACHE))
    return out


def built_binary(subject_id: str) -> str | None:
    """The cached binary of a built subject ("runc-1.5.3"), or None when that id names
    no build or the build is not in any cache (lookup only: never builds)."""
    for b in BUILDS.values():
        if b.subject and b.subject_id == subject_id:
            for root in _roots():
                p = build_dir(b, root) / "bin" / b.subject
                if (build_dir(b, root) / "build.json").is_file() and os.access(p, os.X_OK):
                    return str(p)
    return None


def built_dir(name: str) -> str | None:
    """The bin/ directory of the finished build `name` (a key of BUILDS, "containerd"),
    or None when it is in no cache or $OCITEST_GO_BUILDS is "none" (lookup only)."""
    if os.environ.get(SELECT_ENV, "").strip() == "none" or name not in BUILDS:
        return None
    b = BUILDS[name]
    for root in _roots():
        d = build_dir(b, root)
        if (d / "build.json").is_file() and all(
            os.access(d / "bin" / n, os.X_OK) for n in b.binaries
        ):
            return str(d / "bin")
    return None


def built_name(spec: str) -> str | None:
    """`spec` when it has the shape of a built subject's id (NAME-DIGITS.DIGITS...) whose
    NAME is one of ours, else None: such an id that is not built is a usage error."""
    name, _, version = spec.rpartition("-")
    if name in BUILDS and version[:1].isdigit() and "/" not in spec:
        return spec
    return None


def not_built(spec: str) -> str:
    """Why `spec` (shaped like a built subject's id) cannot be used (one line)."""
    ids = [b.subject_id for b in BUILDS.values() if b.subject]
    return (
        f"no such built subject in {cache_root() / 'go'} (setup builds {', '.join(ids)}; "
        "run ./ocitest setup with Go on PATH) and none on PATH"
    )


def built_runtimes() -> list[str]:
    """Ids of the runtimes built and cached (added to the default --runtime list);
    none when $OCITEST_GO_BUILDS is "none"."""
    if os.environ.get(SELECT_ENV, "").strip() == "none":
        return []
    return [
        b.subject_id
        for b in BUILDS.values()
        if b.subject and b.default and built_binary(b.subject_id)
    ]


def schema_dir(spec: str) -> str | None:
    """The cached schema/ directory of `spec` ("runtime-spec", "image-spec"), or None."""
    for root in _roots():
        d = schema_home(spec, root) / "schema"
        if (d.parent / ".complete").is_file():
            return str(d)
    return None


def selection(names: str | None = None) -> list[GoBuild]:
    """The builds to run: `names` (or $OCITEST_GO_BUILDS) as "none", "all", "default" or
    a comma list; unset means the default ones.

    Raises:
        SelectionError: a name that is not in BUILDS.
    """
    raw = (names if names is not None else os.environ.get(SELECT_ENV, "default")).strip()
    if raw in ("", "default"):
        return [b for b in BUILDS.values() if b.default]
    if raw == "none":
        return []
    if raw == "all":
        return list(BUILDS.values())
    out = []
    for n in (x.strip() for x in raw.split(",") if x.strip()):
        if n in ("none", "all", "default"):
            raise SelectionError(
                f"{SELECT_ENV}={raw}: {n!r} stands alone, not in a list "
                f"(or a comma list of: {', '.join(BUILDS)})"
            )
        if n not in BUILDS:
            raise SelectionError(
                f"{SELECT_ENV}={raw}: unknown build {n!r} (known: {', '.join(BUILDS)}, "
                "or none, all, default)"
            )
        out.append(BUILDS[n])
    return out


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _go_env(root: Path) -> dict[str, str]:
    """The go client's environment: the harness's own module and build caches; GOPROXY,
    GOSUMDB, GONOSUMDB, ... as this machine configures them."""
    g = _go_dir(root)
    return dict(
        os.environ,
        GOMODCACHE=str(g / "mod"),
        GOCACHE=str(g / "gocache"),
        GOFLAGS="-mod=mod -modcacherw -trimpath",
        GOTOOLCHAIN="local",
    )


def go_version() -> str | None:
    """`go env GOVERSION` (go1.26.8), or None when there is no usable go on PATH."""
    if shutil.which("go") is None:
        return None
    try:
        res = subprocess.run(
            ["go", "env", "GOVERSION"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout.strip() if res.returncode == 0 and res.stdout.strip() else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _finished(d: Path, build: GoBuild) -> bool:
    """True when `d` holds a complete build whose binaries still match build.json."""
    try:
        rec = json.loads((d / "build.json").read_text())
        return all(_sha256(d / "bin" / n) == rec["binaries"][n] for n in build.binaries)
    except (OSError, ValueError, KeyError, TypeError):
        return False


@dataclass
class Outcome:
    """What happened to one build: state is "built", "cached" or "failed"."""

    name: str
    state: str
    seconds: float = 0.0
    message: str = ""


def _go(argv: list[str], env: dict[str, str], cwd: Path, timeout: int) -> tuple[str, int]:
    """(combined output, exit status) of one go command; -1 when it timed out."""
    try:
        res = subprocess.run(
            argv,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        return res.stdout, res.returncode
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return out + f"\n(timed out after {timeout} s)", -1


def _go_build(b: GoBuild, tmp: Path, env: dict[str, str]) -> tuple[str, int]:
    """Build `b`'s binaries into tmp/bin: `go install PKG@VERSION`, or for `in_module`
    builds `go mod download` and `go build` in a copy of the module (tmp/src)."""
    tags = ["-tags", ",".join(b.tags)] if b.tags else []
    if not (b.in_module or b.test_binary):
        return _go(
            ["go", "install", *tags, *b.targets()],
            dict(env, GOBIN=str(tmp / "bin")),
            tmp,
            BUILD_TIMEOUT,
        )
    out, rc = _go(["go", "mod", "download", "-json", b.key], env, tmp, DOWNLOAD_TIMEOUT)
    try:
        src = Path(json.loads(out)["Dir"]) if rc == 0 else None
    except (ValueError, KeyError):
        src = None
    if src is None or not src.is_dir():
        return out, rc or 1
    shutil.copytree(src, tmp / "src")
    for p in [tmp / "src", *(tmp / "src").rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)
    if b.go_mod:  # our pins for a module published without go.mod
        for name in ("go.mod", "go.sum"):
            shutil.copy(Path(__file__).resolve().parents[1] / b.go_mod / name, tmp / "src" / name)
    for name in b.keep:
        if (tmp / "src" / name).is_file():
            shutil.copy(tmp / "src" / name, tmp / "bin" / name)
    pkgs = [f"./{p}" if p else "." for p in b.packages]
    if b.test_binary:  # one package: `go test -c` takes one -o file
        argv = ["go", "test", "-c", *tags, "-o", str(tmp / "bin" / b.binaries[0]), pkgs[0]]
        return _go(argv, env, tmp / "src", BUILD_TIMEOUT)
    return _go(
        ["go", "build", *tags, "-o", str(tmp / "bin") + "/", *pkgs],
        env,
        tmp / "src",
        BUILD_TIMEOUT,
    )


def build(b: GoBuild, say: Callable[[str], None], root: Path | None = None) -> Outcome:
    """Build `b` into the cache unless it is there already; never raises for a failed
    build (the outcome says why). Concurrent callers wait on the build's lock."""
    root = root or cache_root()
    final = build_dir(b, root)
    with _locked(final.parent / f".{final.name}.lock"):
        if _finished(final, b):
            say(f"go build {b.key}: cached")
            return Outcome(b.name, "cached")
        say(f"go build {b.key} ({', '.join(b.binaries)}): started")
        tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "bin").mkdir(parents=True)
        started = time.monotonic()
        out, rc = _go_build(b, tmp, _go_env(root))
        shutil.rmtree(tmp / "src", ignore_errors=True)
        seconds = round(time.monotonic() - started, 1)
        missing = [n for n in b.binaries if not (tmp / "bin" / n).is_file()]
        if rc != 0 or missing:
            shutil.rmtree(tmp, ignore_errors=True)
            tail = [ln for ln in out.splitlines() if ln.strip()][-TAIL_LINES:]
            why = f"exit status {rc}" if rc != 0 else f"no {', '.join(missing)} written"
            say(f"go build {b.key} failed ({why}) after {seconds} s; last lines of its output:")
            for ln in tail:
                say(f"    {ln}")
            return Outcome(b.name, "failed", seconds, why)
        record = {
            "module": b.module,
            "version": b.version,
            "subject_id": b.subject_id,
            "packages": list(b.packages),
            "tags": list(b.tags),
            "go": go_version() or "",
            "binaries": {n: _sha256(tmp / "bin" / n) for n in b.binaries},
            "seconds": seconds,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (tmp / "build.json").write_text(json.dumps(record, indent=2) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        say(f"go build {b.key}: done in {seconds:.0f} s")
        return Outcome(b.name, "built", seconds)


def fetch_schemas(spec: str, say: Callable[[str], None], root: Path | None = None) -> Outcome:
    """Copy `spec`'s schema/ directory and specs-go/version.go out of its Go module
    (`go mod download -json MODULE@VERSION` gives the module's directory)."""
    root = root or cache_root()
    module, version = SCHEMA_MODULES[spec]
    home = schema_home(spec, root)
    with _locked(home.parent / f".{home.name}.lock"):
        if (home / ".complete").is_file():
            return Outcome(spec, "cached")
        started = time.monotonic()
        try:
            res = subprocess.run(
                ["go", "mod", "download", "-json", f"{module}@{version}"],
                env=_go_env(root),
                cwd=root if root.is_dir() else "/",
                capture_output=True,
                text=True,
                timeout=DOWNLOAD_TIMEOUT,
                check=False,
            )
            info = json.loads(res.stdout) if res.returncode == 0 else {}
        except (subprocess.TimeoutExpired, ValueError) as exc:
            res, info = None, {"Error": str(exc)}
        src = Path(info.get("Dir", "/nonexistent"))
        if not (src / "schema").is_dir():
            err = info.get("Error") or (res.stderr.strip() if res else "") or "no schema/ there"
            say(f"schemas of {module}@{version}: download failed: {err.splitlines()[-1][:300]}")
            return Outcome(spec, "failed", message=err)
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(src / "schema", home / "schema")
        if (src / "specs-go" / "version.go").is_file():
            (home / "specs-go").mkdir()
            shutil.copy(src / "specs-go" / "version.go", home / "specs-go" / "version.go")
        for p in [home, *home.rglob("*")]:  # the module cache's copies may be read-only
            p.chmod(0o755 if p.is_dir() else 0o644)
        (home / ".complete").write_text(f"{module}@{version}\n")
        seconds = round(time.monotonic() - started, 1)
        say(f"schemas of {module}@{version}: copied to {home / 'schema'}")
        return Outcome(spec, "built", seconds)


def setup(say: Callable[[str], None], names: str | None = None) -> list[Outcome]:
    """Build the selected subjects and copy the spec schemas; never raises for a failed
    build or a missing toolchain (those are printed).

    Raises:
        SelectionError: the selection names an unknown build.
    """
    raw = names if names is not None else os.environ.get(SELECT_ENV, "default")
    if raw.strip() == "none":
        return []
    builds = selection(raw)
    if go_version() is None:
        say("no Go toolchain: testing Debian's subjects only")
        return []
    root = cache_root()
    try:
        _go_dir(root).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        say(f"warning: cannot create {_go_dir(root)} ({exc.strerror}): no Go builds")
        return []
    out = [fetch_schemas(spec, say, root) for spec in SCHEMA_MODULES]
    return out + [build(b, say, root) for b in builds]
