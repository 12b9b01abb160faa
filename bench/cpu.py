"""CPU time per process, read from /proc: where a benchmark phase spent its cycles."""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """utime + stime; with `reaped_children`, also what its exited children spent
    (cutime + cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if ppid == parent:
                found.append(int(entry.name))
    return found


def tree_cpu_seconds(parent: int) -> float:
    """A server that forks a process per connection (PostgreSQL): the parent, its living
    children and those it has reaped, so a connection that closes mid-run is still counted."""
    return cpu_seconds(parent, reaped_children=True) + sum(
        cpu_seconds(pid) for pid in children_of(parent)
    )


def snapshot(groups: dict[str, list[int] | int]) -> dict[str, float]:
    """CPU seconds so far per group: a list of pids, or one pid standing for its whole process
    tree."""
    return {
        name: tree_cpu_seconds(pids)
        if isinstance(pids, int)
        else sum(cpu_seconds(pid) for pid in pids)
        for name, pids in groups.items()
    }


def per_item_ms(before: dict[str, float], after: dict[str, float], items: int) -> dict[str, float]:
    return {name: round(1000 * (after[name] - before[name]) / items, 2) for name in before}
