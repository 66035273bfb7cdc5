"""The `pytest11` entry point `ocitest`: registers the harness's plugins, once.

It acts only when pytest runs with the harness's own configuration (rootdir = the
harness directory, as `ocitest run` and `./ocitest run` do), so installing ocitest does
not change a user's other pytest runs. The plugins are registered under their module
names, so the harness's conftest.py (`pytest_plugins`) and a `-p infra.plugin` find them
already loaded and do not load them again. `-p no:ocitest` turns it off.
"""

from __future__ import annotations

from pathlib import Path

#: the harness's plugins, in the order they register
PLUGINS = ("infra.plugin", "infra.redact_plugin", "reports.plugin")


def _is_harness_run(config) -> bool:
    from ocitest import harness_dir

    try:
        harness = harness_dir().resolve()
    except RuntimeError:
        return False
    inipath = getattr(config, "inipath", None)
    return Path(config.rootpath).resolve() == harness and (
        inipath is None or Path(inipath).resolve().parent == harness
    )


def pytest_addoption(parser, pluginmanager) -> None:
    """Historic hook, called as this plugin registers (before the command line is
    parsed for plugin options): register the harness's plugins when this is a harness run."""
    config = pluginmanager.get_plugin("pytestconfig")
    if config is None or not _is_harness_run(config):
        return
    from ocitest import use_harness

    use_harness()
    for name in PLUGINS:
        pluginmanager.import_plugin(name)
