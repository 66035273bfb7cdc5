"""Preflight: a runtime that cannot run even the baseline container yields errors, not
a page of MUST failures (infra/preflight.py)."""

from __future__ import annotations


def test_a_runtime_that_cannot_create_anything_gives_errors_with_the_reason(inner, tmp_path):
    fake = tmp_path / "cannot-create"
    fake.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" --version "*) echo "fake version 0.1"; echo "spec: 1.0.2"; exit 0;; esac\n'
        'echo "mount /: invalid argument" >&2; exit 1\n'
    )
    fake.chmod(0o755)
    run = inner(["suites/oci_runtime/test_state.py", "--runtime", str(fake), "-n", "0"])
    outcomes = {r["outcome"] for r in run.results["results"]}
    assert run.rc == 1 and outcomes == {"error"}, run.stdout[-2000:]
    msg = run.results["results"][0]["message"]
    assert "preflight: create of the baseline bundle failed" in msg
    assert "mount /: invalid argument" in msg
