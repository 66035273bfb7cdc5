#!/usr/bin/env bash
# The steps of ocitest's GitHub Action (action.yml) and of the GitLab CI job of
# docs/ci.md, as one script that also runs by hand or from a test. Runs as root on
# Debian 12 (the action's job container: debian:12, --privileged). Settings come from
# the environment:
#   OCITEST_SUITES         suites to run, space-separated (default: oci_runtime)
#   OCITEST_RUNTIMES       runtimes to test: paths (your fresh build) or names on PATH,
#                          space-separated (default: those ocitest finds)
#   OCITEST_KNOWN_FAILURES your project's known-failures file (optional)
#   OCITEST_GATE           gate mode (MUST, SHOULD, none; default: ocitest's, MUST)
#   OCITEST_ARGS           more pytest/ocitest arguments, shell words (e.g. "-k state")
#   OCITEST_REPORT_DIR     report directory (default: ocitest-report)
#   OCITEST_SOURCE         what pip installs (default: the directory above this script,
#                          i.e. the action's own checkout; a wheel path also works)
#   OCITEST_VENV           virtualenv to install into (default: $RUNNER_TEMP/ocitest-venv)
# Writes summary.md to $GITHUB_STEP_SUMMARY when set, report-dir and exit-status to
# $GITHUB_OUTPUT when set. Exit status: ocitest's (0 gate passed, 1 gate failed, 2
# interrupted, 4 usage error).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
suites="${OCITEST_SUITES:-oci_runtime}"
report_dir="${OCITEST_REPORT_DIR:-ocitest-report}"
source_spec="${OCITEST_SOURCE:-$here}"
venv="${OCITEST_VENV:-${RUNNER_TEMP:-/tmp}/ocitest-venv}"

say() { echo "ocitest action: $*"; }

if [ "$(id -u)" != 0 ]; then
    say "needs root (the action's job container runs as root)" >&2
    exit 4
fi
# a bare debian:12 container has no python3: the one package setup cannot install itself
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    say "installing python3 and python3-venv (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    timeout 1800 apt-get update -qq
    timeout 1800 apt-get install -y -qq --no-install-recommends python3 python3-venv ca-certificates
fi

if [ ! -x "$venv/bin/python" ]; then
    say "creating the virtualenv $venv"
    timeout 600 python3 -m venv "$venv"
fi
say "installing ocitest from $source_spec"
timeout 1800 "$venv/bin/python" -m pip install -q --disable-pip-version-check "$source_spec"
ocitest="$venv/bin/ocitest"
"$ocitest" --version

say "setup (Debian packages, host fixes)"
timeout 3600 "$ocitest" setup

args=()
read -r -a suite_list <<<"$suites"
args+=("${suite_list[@]}")
if [ -n "${OCITEST_RUNTIMES:-}" ]; then
    read -r -a runtime_list <<<"$OCITEST_RUNTIMES"
    for rt in "${runtime_list[@]}"; do args+=(--runtime "$rt"); done
fi
[ -n "${OCITEST_KNOWN_FAILURES:-}" ] && args+=(--known-failures "$OCITEST_KNOWN_FAILURES")
[ -n "${OCITEST_GATE:-}" ] && args+=(--gate "$OCITEST_GATE")
if [ -n "${OCITEST_ARGS:-}" ]; then
    read -r -a extra <<<"$OCITEST_ARGS"
    args+=("${extra[@]}")
fi
args+=(--report-dir "$report_dir")

say "ocitest run ${args[*]}"
set +e
"$ocitest" run "${args[@]}"
status=$?
set -e

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    if [ -f "$report_dir/summary.md" ]; then
        cat "$report_dir/summary.md" >>"$GITHUB_STEP_SUMMARY"
    else
        echo "ocitest wrote no report (exit status $status); see the job log." >>"$GITHUB_STEP_SUMMARY"
    fi
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "report-dir=$report_dir" >>"$GITHUB_OUTPUT"
    echo "exit-status=$status" >>"$GITHUB_OUTPUT"
fi
say "exit status $status"
exit "$status"
