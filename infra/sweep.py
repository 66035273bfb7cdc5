"""The sweeper: removes what a run left behind, also a run whose worker was killed.

Everything of a run is found by its id (docs/architecture.md, Runs under xdist): state
roots under /run/ocitest/RUN_ID, bundles under /var/lib/ocitest/runs/RUN_ID, cgroups named
RUN_ID-*, mounts below those directories. `sweep_run` removes them and returns one line
per thing it had to remove (empty when the tests' own teardown had left nothing).
`sweep_stale` does the same for every run whose owner process is gone.
A user other than root sweeps the runs under that user's own layout (infra/run.py),
and only those: a user can neither see nor remove another's.
"""

from __future__ import annotations

import shlex

from infra.run import Layout, user_layout
from infra.targets import Target

_SWEEP = r"""
run=$1$2; state=$3; work=$4
# (the run id comes in two parts: the sweep's own command line, which may be an ssh
#  client's on this very machine, must not name it, or step 0 would kill it)
# 0. our own helper processes still at work (a killed run's `timeout cp ...`, runtime
#    calls): every command we run names the run id; coreutils timeout puts them in
#    process groups of their own, so a killed run's group signal missed them
ancestors=" "; a=$$
while [ -n "$a" ] && [ "$a" != 0 ]; do
  ancestors="$ancestors$a "; a=$(awk '{print $4}' "/proc/$a/stat" 2>/dev/null)
done
kill_ours() {  # repeat until a scan finds none: a dying parent may still fork a child
  rounds=0
  while [ $rounds -lt 50 ]; do
    found=0
    # one grep over every command line (an id never spans two arguments)
    for f in $(grep -l -a -F -- "$run" /proc/[0-9]*/cmdline 2>/dev/null); do
      pid=${f#/proc/}; pid=${pid%/cmdline}
      case "$ancestors" in *" $pid "*) continue;; esac
      [ "$pid" = "$$" ] && continue
      grep -q -a -F -- "$run" "$f" 2>/dev/null || continue  # gone (the scan's own grep)
      [ $rounds = 0 ] && echo "process $pid ($(tr '\0' ' ' < "$f" 2>/dev/null | cut -c1-80))"
      kill -9 "$pid" 2>/dev/null && found=1
    done
    [ $found = 0 ] && return
    rounds=$((rounds + 1)); sleep 0.1
  done
}
kill_ours
# wait_gone: until no process of the run is left (by command line, or in its cgroups),
# killing what shows up meanwhile; at most 10 s. A SIGKILLed shim or container process
# takes a moment to die (its exit may wait on I/O, on unmounts), and until then it
# holds its socket, mounts and cgroup
in_our_cgroups() {
  for procs in /sys/fs/cgroup/*/"$run"-*/cgroup.procs /sys/fs/cgroup/unified/"$run"-*/cgroup.procs \
      $(find /sys/fs/cgroup -mindepth 3 -maxdepth 6 -path "*/$run-*/*" -name cgroup.procs 2>/dev/null); do
    [ -f "$procs" ] && cat "$procs" 2>/dev/null
  done | while read -r pid; do
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] || echo "$pid"
  done
}
wait_gone() {
  n=0
  while [ $n -lt 100 ]; do
    kill_ours
    left=$(in_our_cgroups)
    [ -z "$left" ] && return
    kill -9 $left 2>/dev/null
    n=$((n + 1)); sleep 0.1
  done
  echo "still alive after 10 s: $(echo $left | cut -c1-80)"
}
# rm_shim_sockets: the sockets of containerd 1.6's shims, under /run/containerd/s (2.x
# keeps them under cri2/s, ours): named sha256(ADDRESS/NAMESPACE/ID) of each task's
# directory, whether or not the shim got to write its `address` file before it died
rm_shim_sockets() {
  for d in "$state/$run"/cri*/state/io.containerd.runtime.v2.task/*/*/; do
    [ -d "$d" ] || continue
    d=${d%/}; id=${d##*/}; ns=${d%/*}; ns=${ns##*/}; tag=${d#"$state/$run/"}; tag=${tag%%/*}
    named=$(sed 's|^unix://||' "$d/address" 2>/dev/null)
    hashed=/run/containerd/s/$(printf %s "$state/$run/$tag/containerd.sock/$ns/$id" | sha256sum | cut -c1-64)
    for s in $named $hashed; do
      case "$s" in /run/containerd/s/*) [ -S "$s" ] && echo "shim socket $s" && rm -f "$s";; esac
    done
  done
  rmdir /run/containerd/s /run/containerd 2>/dev/null
}
# 1. containers still known to a runtime (each state root names its runtime binary)
for rtfile in "$state/$run"/*.runtime; do
  root=${rtfile%.runtime}
  [ -d "$root" ] || continue
  rt=$(cat "$rtfile" 2>/dev/null) || continue
  [ -x "$rt" ] || continue
  for cid in $(timeout -k 2 10 "$rt" --root "$root" list -q 2>/dev/null); do
    echo "container $cid (in $root)"
    timeout -k 2 10 "$rt" --root "$root" kill "$cid" KILL >/dev/null 2>&1
    timeout -k 2 10 "$rt" --root "$root" delete --force "$cid" >/dev/null 2>&1
  done
done
# 2. processes whose cgroup is ours (a runtime that lost track of them)
#    (also nested: the CRI pods' containers sit two levels below RUN-cri)
for procs in /sys/fs/cgroup/*/"$run"-*/cgroup.procs /sys/fs/cgroup/unified/"$run"-*/cgroup.procs \
    $(find /sys/fs/cgroup -mindepth 3 -maxdepth 6 -path "*/$run-*/*" -name cgroup.procs 2>/dev/null); do
  [ -f "$procs" ] || continue
  for pid in $(cat "$procs"); do echo "process $pid (in ${procs%/cgroup.procs})"; kill -9 "$pid" 2>/dev/null; done
done
# 3. mounts below our directories, deepest first
for base in "$state/$run" "$work/$run"; do
  awk -v b="$base" '$5 == b || index($5, b "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
  while read -r m; do echo "mount $m"; umount -l "$m" 2>/dev/null; done
done
# 3b. what the embedded containerds (cri/: Debian's 1.6; cri2/: the 2.x built at setup,
#     whose shim sockets are under cri2/s already) leave outside our directories: the
#     shims' sockets under /run/containerd/s (once the shims are gone: a shim still
#     dying holds its socket), the CNI bridges RUN-br and RUN-b2 (3c), portmap's per-pod
#     NAT chains (rules name RUN-net)
wait_gone
rm_shim_sockets
if ip link show "$run-br" >/dev/null 2>&1; then echo "bridge $run-br"; ip link del "$run-br"; fi
# 3c. network devices named after the run (the netDevices tests' dummy devices)
for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$run"); do
  echo "network device $l"; ip link del "$l" 2>/dev/null
done
iptables -t nat -S 2>/dev/null | grep -F -- "$run-net" | while read -r _ chain rule; do
  echo "nat rule in $chain"; eval "iptables -t nat -D $chain $rule" 2>/dev/null
  case "$rule" in *"-j CNI-DN-"*) dn=${rule##*-j }; dn=${dn%% *}
    iptables -t nat -F "$dn" 2>/dev/null; iptables -t nat -X "$dn" 2>/dev/null;; esac
done
# 4. cgroups named after the run (removed deepest first; only empty ones can go)
for d in $(find /sys/fs/cgroup -maxdepth 3 -type d -name "$run-*" 2>/dev/null | sort -r); do
  echo "cgroup $d"; find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
done
# 5. our directories (container state below a state root, or any bundle, is a leak)
if [ -n "$(find "$state/$run" -mindepth 2 -print -quit 2>/dev/null)" ]; then echo "state under $state/$run"; fi
if [ -n "$(find "$work/$run" -mindepth 1 -print -quit 2>/dev/null)" ]; then echo "files under $work/$run"; fi
wait_gone
rm_shim_sockets  # again: a shim that was still starting at the first pass
rm -rf --one-file-system "$state/$run" "$work/$run"
if [ -e "$state/$run" ] || [ -e "$work/$run" ]; then  # recreated by a process that was dying
  sleep 0.5; kill_ours; rm -rf --one-file-system "$state/$run" "$work/$run"
fi
true
"""

_STALE = r"""
for d in "$1"/oct*/; do
  [ -d "$d" ] || continue
  pid=$(cat "$d/owner.pid" 2>/dev/null)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then continue; fi
  basename "$d"
done
"""


def sweep_run(target: Target, run_id: str, layout: Layout | None = None) -> list[str]:
    """Remove everything of `run_id` on `target`; return what had to be removed.

    `layout`: where the run's directories are (default: the target user's own)."""
    if not run_id.startswith("oct") or "/" in run_id:
        raise ValueError(f"not a run id: {run_id!r}")
    lay = layout or user_layout(target)
    res = target.run(
        ["sh", "-c", _SWEEP, "sweep", run_id[:3], run_id[3:], lay.state, lay.work], timeout=300
    )
    return [line for line in res.stdout.splitlines() if line.strip()]


def sweep_stale(target: Target, layout: Layout | None = None) -> dict[str, list[str]]:
    """Sweep every run whose owner process is gone; run id -> what was removed."""
    lay = layout or user_layout(target)
    res = target.run(["sh", "-c", _STALE, "stale", lay.state], timeout=30)
    found = {r.strip() for r in res.stdout.split() if r.strip()}
    ls = target.run(["sh", "-c", f"ls {shlex.quote(lay.work)} 2>/dev/null"], timeout=30)
    for r in ls.stdout.split():
        if r.startswith("oct") and not target.exists(f"{lay.state}/{r}"):
            found.add(r)
    return {r: sweep_run(target, r, lay) for r in sorted(found)}


#: rootless: the user's private directory must be a real directory of that user's alone
_CHECK_PRIVATE = r"""
p=$1
mkdir -m 700 -p "$p" || exit 1
if [ -L "$p" ] || [ ! -O "$p" ]; then echo "$p is not a directory of $(id -un)'s own" >&2; exit 1; fi
case "$(stat -c %A "$p")" in ????------) ;; *) chmod 700 "$p" || exit 1;; esac
"""


def check_roots(target: Target, layout: Layout | None = None) -> str:
    """ "" when our state and work roots can be created and written, else why not."""
    lay = layout or user_layout(target)
    if lay.private:
        res = target.run(["sh", "-c", _CHECK_PRIVATE, "check", lay.private], timeout=15)
        if res.exit_status != 0:
            return (
                f"cannot use {lay.private} for uid {lay.uid}'s runs on the target "
                f"({res.stderr.strip() or 'not writable'}); remove it or run as root"
            )
    res = target.run(
        [
            "sh",
            "-c",
            'mkdir -p "$1" "$2" && [ -w "$1" ] && [ -w "$2" ]',
            "check",
            lay.state,
            lay.work,
        ],
        timeout=15,
    )
    if res.exit_status != 0:
        return (
            f"cannot write {lay.state} and {lay.work} on the target "
            f"({res.stderr.strip() or 'not writable'}); run as root"
        )
    return ""


def prepare_run(target: Target, run_id: str, owner_pid: int, layout: Layout | None = None) -> None:
    """Create the run's directories and record the owner process."""
    lay = layout or user_layout(target)
    res = target.run(
        [
            "sh",
            "-c",
            'mkdir -p "$1/$3" "$2/$3" && echo "$4" > "$1/$3/owner.pid"',
            "prep",
            lay.state,
            lay.work,
            run_id,
            str(owner_pid),
        ],
        timeout=30,
    )
    if res.exit_status != 0:
        raise OSError(f"cannot create the run directories: {res.stderr.strip()}")


def prepare_state_root(target: Target, root: str, runtime_path: str) -> None:
    """Create a runtime state root and note which binary owns it (for the sweeper)."""
    res = target.run(
        ["sh", "-c", 'mkdir -p "$1" && printf %s "$2" > "$1.runtime"', "prep", root, runtime_path],
        timeout=30,
    )
    if res.exit_status != 0:
        raise OSError(f"cannot create state root {root}: {res.stderr.strip()}")


def main() -> int:
    """`python -m infra.sweep`: sweep every run whose owner process is gone, and the
    VMs of dead runs: QEMU and overlay (infra/targets/qemu.py), libvirt domains, volumes
    and networks of vagrant machines (infra/targets/vagrant.py)."""
    from infra.targets import open_target
    from infra.targets.qemu import sweep_vms
    from infra.targets.vagrant import sweep_libvirt

    swept = sweep_stale(open_target("local"))
    for run, removed in swept.items():
        print(f"ocitest sweep: run {run}: removed {len(removed)}: " + "; ".join(removed[:20]))
    vms = sweep_libvirt() + sweep_vms()
    if vms:
        print(f"ocitest sweep: VMs of dead runs: removed {len(vms)}: " + "; ".join(vms[:20]))
    if not swept and not vms:
        print("ocitest sweep: nothing to remove")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


#: host device nodes whose owner and mode the leak check compares before and after a run
WATCHED_DEVICES = (
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
)


def device_snapshot(target: Target) -> dict[str, str]:
    """path -> "uid:gid mode" of each watched host device node."""
    res = target.run(["stat", "-c", "%n %u:%g %a", *WATCHED_DEVICES], timeout=15)
    out = {}
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = f"{parts[1]} {parts[2]}"
    return out


def device_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One line per watched device node whose owner or mode changed during the run.

    An owner from the ids the suites map a user namespace's root to (MAPPED_IDS and up)
    on either side is not counted: crun 1.8.1 gives host /dev/null to such a root while
    that container lives, every test's teardown gives it back, and a run going on beside
    this one (the self-tests run several) can hold it at this run's start or end. That
    runtime behaviour is reported by config-linux.userns.no-rootfs-chown instead."""
    from infra.drivers.host import MAPPED_IDS

    def mapped(v: str | None) -> bool:
        uid = (v or "").split(":")[0]
        return uid.isdigit() and int(uid) >= MAPPED_IDS

    return [
        f"host {p} changed from {before[p]} to {after.get(p, 'missing')} (owner mode)"
        for p in sorted(before)
        if after.get(p) != before[p] and not (mapped(before[p]) or mapped(after.get(p)))
    ]
