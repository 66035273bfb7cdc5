"""The product's layers (tools/check_layers.py): no self-test imports, no cycle."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tools.check_layers import problems


def test_the_product_imports_no_selftest_code_and_has_no_cycle():
    res = subprocess.run(
        [sys.executable, "-m", "tools.check_layers"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_checker_names_each_problem_on_one_line(tmp_path):
    files = {
        "infra/__init__.py": "",
        "infra/a.py": "from infra import b\nimport suites.x\n",
        "infra/b.py": "def f():\n    from infra.a import g\n",
        "infra/mutants/__init__.py": "import reports.w\n",
        "reports/__init__.py": "",
        "reports/w.py": "from infra.mutants import MUTANTS\nfrom . import v\n",
        "reports/v.py": "import selftest.plugin\n",
        "suites/__init__.py": "",
        "suites/x.py": "import infra.a\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert sorted(problems(tmp_path)) == [
        "import cycle among infra.a, infra.b, suites.x",
        "infra/a.py:2: imports suites.x: infra/ must not import it",
        "reports/v.py:1: imports selftest.plugin: self-test code",
        "reports/w.py:1: imports infra.mutants: self-test code",
    ]
