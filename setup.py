"""Packaging of ocitest's harness inside the `ocitest` distribution (README: Install).

The checkout keeps its layout (top-level infra/, reports/, suites/, conftest.py,
pyproject.toml); the wheel maps those packages below `ocitest.harness` so that no
top-level `infra`, `reports` or `suites` lands in site-packages, and copies the harness's
pytest configuration (pyproject.toml, conftest.py) and the project's known-failures.yaml
beside them. `ocitest.use_harness()` puts that directory on sys.path at run time.
Everything else (name, version, dependencies, scripts, entry points) is in pyproject.toml.
"""

import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
#: top-level packages of the checkout shipped as ocitest.harness.NAME
HARNESS_PACKAGES = ("infra", "reports", "suites")
#: files of the checkout's root copied into ocitest/harness/
HARNESS_FILES = ("pyproject.toml", "conftest.py", "known-failures.yaml")


class BuildPy(build_py):
    """build_py that also copies HARNESS_FILES into the wheel's ocitest/harness/."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout itself
        dest = os.path.join(self.build_lib, "ocitest", "harness")
        os.makedirs(dest, exist_ok=True)
        for name in HARNESS_FILES:
            shutil.copyfile(os.path.join(HERE, name), os.path.join(dest, name))


# ocitest/harness/ itself has no __init__.py: pytest then imports the suites as
# `suites.*`, as in the checkout (a package there would make them ocitest.harness.suites.*)
packages = ["ocitest"]
package_dir = {"ocitest": "pkg/ocitest"}
for top in HARNESS_PACKAGES:
    package_dir[f"ocitest.harness.{top}"] = top
    packages += [f"ocitest.harness.{top}"] + [
        f"ocitest.harness.{top}.{sub}" for sub in find_packages(top)
    ]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={
        "ocitest.harness.reports": ["templates/*", "schemas/*.json", "proofs.json"],
        "ocitest.harness.suites": ["*/requirements*.yaml"],
        "ocitest.harness.infra.images": ["probe.c", "linuxkit/ocitest.yml"],
    },
    cmdclass={"build_py": BuildPy},
)
