"""The shape the code keeps (issue 10): checked from the source, so a change that breaks it fails
CI.

The layer contracts themselves (domain imports nothing of Herald's, workflows only domain...)
are import-linter's, run by `make lint`; these are the rules it cannot express."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Herald's packages, as pyproject ships them (devtools/ is development-only).
PACKAGES = [
    pattern.rstrip("*")
    for pattern in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    if pattern.rstrip("*") != "devtools"
]


def modules(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]


def name_of(node: ast.expr) -> str:
    return ast.unparse(node)


def test_one_place_starts_a_notification_workflow():
    starts = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in modules(*PACKAGES)
        for call in calls(path)
        if name_of(call.func).endswith(
            (
                "start_workflow",
                "start_child_workflow",
                "execute_workflow",
                "execute_child_workflow",
                "signal_with_start_workflow",
            )
        )
        and call.args
        and "notificationworkflow" in name_of(call.args[0]).lower().replace("_", "")
    ]
    assert len(starts) == 1 and starts[0].startswith("temporal_clients/notifications.py"), starts


def test_activities_are_called_by_reference_never_by_name():
    by_name = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in modules("workflows")
        for call in calls(path)
        if "execute_activity" in name_of(call.func)
        or "execute_local_activity" in name_of(call.func)
        or "start_activity" in name_of(call.func)
        or "start_local_activity" in name_of(call.func)
        if call.args and isinstance(call.args[0], ast.Constant)
    ]
    assert by_name == []
    unbound = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in modules("workflows")
        for call in calls(path)
        if name_of(call.func).endswith(("execute_activity", "execute_local_activity"))
    ]
    assert unbound == [], (
        "activities are methods of an activities class: use execute_activity_method"
    )


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_routes_reach_no_database_and_no_temporal_directly():
    offending = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in imported(path)
            if name.split(".")[0]
            in ("db", "sqlalchemy", "activities", "temporal_clients", "temporalio")
        )
        for path in modules("api")
    }
    allowed = {
        # The request-scoped session and the client are handed to services, typed as such.
        "api/deps.py": ["sqlalchemy.ext.asyncio", "temporalio.client"],
        "api/app.py": ["temporalio.client"],
        # One handler each turns Temporal or the database being unreachable into a 503 for
        # every route.
        "api/errors.py": ["sqlalchemy.exc", "temporalio.service"],
    }
    assert {
        path: names for path, names in offending.items() if names and names != allowed.get(path)
    } == {}
