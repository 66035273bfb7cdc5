"""The pause program of pod sandboxes: a tiny static C program, built once and cached.

A pod's infra container must run a real pause process (a `sleep` at pid 1 of a pod's shared
pid namespace would confuse tests that look for a sleeping process): it sleeps in
pause(2), reaps the children it inherits as pid 1, and exits 0 on SIGINT or SIGTERM.
Built with `gcc -static` from the source below; the cache key is the source's digest.
"""

from __future__ import annotations

import hashlib

from infra.targets import Target, TargetError

SOURCE = r"""
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
static void quit(int sig) { (void)sig; _exit(0); }

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = quit;
    sigaction(SIGINT, &sa, 0);
    sigaction(SIGTERM, &sa, 0);
    sa.sa_handler = reap;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, 0);
    for (;;) pause();
}
"""

_BUILD = r"""
set -eu
dir=$1; src=$2
mkdir -p "$dir"
exec 9>"$dir.lock"
flock -w 120 9
if [ ! -x "$dir/pause" ]; then
  printf '%s' "$src" > "$dir/pause.c"
  gcc -static -Os -s -o "$dir/pause.tmp" "$dir/pause.c"
  mv "$dir/pause.tmp" "$dir/pause"
fi
echo "$dir/pause"
"""


def cached_pause(target: Target, cache_dir: str) -> str:
    """Path of the static pause binary on `target`, building it if needed.

    Raises:
        TargetError: gcc or the static libc (libc6-dev) is missing, or the build failed.
    """
    key = hashlib.sha256(SOURCE.encode()).hexdigest()[:16]
    res = target.run(
        ["sh", "-c", _BUILD, "build-pause", f"{cache_dir}/pause-{key}", SOURCE], timeout=120
    )
    if res.exit_status != 0:
        raise TargetError(
            f"building the pause program failed ({res.exit_status}): "
            f"{res.stderr.strip()[-400:]}; are gcc and libc6-dev installed?"
        )
    return res.stdout.strip().splitlines()[-1]
