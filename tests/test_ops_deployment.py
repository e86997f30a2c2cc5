"""Deployment: docker-compose.yml and the Dockerfile (checked by parsing: no Docker engine), and the docs."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from wlbtrack.config import Settings

ROOT = Path(__file__).parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
SETTINGS_VARIABLES = {f"WLBTRACK_{f.name.upper()}" for f in dataclasses.fields(Settings)}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+other}
SUBSTITUTION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
SECRET = re.compile(r"PASSWORD|TOKEN|SECRET|KEY", re.IGNORECASE)


def every_string(value: Any) -> list[str]:
    """Every key and string value in a parsed document (the Compose file, the OpenAPI document)."""
    if isinstance(value, dict):
        return [text for pair in value.items() for text in every_string(list(pair))]
    if isinstance(value, list):
        return [text for item in value for text in every_string(item)]
    return [value] if isinstance(value, str) else []


def test_services_start_in_order_with_migrations_run_once() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", "api"}
    assert SERVICES["postgres"]["image"].partition(":")[0] == "postgres"  # which release is the file's choice
    assert SERVICES["redis"]["image"].partition(":")[0] == "redis"
    assert SERVICES["migrate"]["image"] == SERVICES["api"]["image"]  # one image, built once
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["command"][-1] == "wlbtrack db upgrade && wlbtrack seed"
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["api"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_the_api_runs_four_workers_without_migrating() -> None:
    command = SERVICES["api"]["command"]
    assert command[:2] == ["wlbtrack", "serve"]
    assert {"--no-migrate", "--host", "0.0.0.0", "--workers", "4"} <= set(command)
    assert command[command.index("--workers") + 1] == "4"
    assert "/ready" in " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert SERVICES["api"]["stop_grace_period"] == "40s"  # longer than the 30 s graceful shutdown


def test_api_and_migrate_share_postgres_and_redis_settings() -> None:
    for name in ("api", "migrate"):
        environment = SERVICES[name]["environment"]
        assert environment["WLBTRACK_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in environment["WLBTRACK_DATABASE_URL"]
        assert environment["WLBTRACK_REDIS_URL"] == "redis://redis:6379/0"
        assert set(environment) <= SETTINGS_VARIABLES


def test_data_lives_in_a_named_volume_and_dependencies_have_healthchecks() -> None:
    assert "pgdata" in COMPOSE["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    for name in ("postgres", "redis", "api"):
        assert SERVICES[name]["healthcheck"]["test"]


def test_no_secret_has_a_default() -> None:
    substitutions = [match for text in every_string(COMPOSE) for match in SUBSTITUTION.findall(text)]
    assert substitutions
    for name, operator, argument in substitutions:
        if SECRET.search(name) and operator in (":-", "-"):
            assert argument == "", f"${{{name}}} defaults to a secret"  # empty means unset: no secret
    for name, value in SERVICES["postgres"]["environment"].items():
        if SECRET.search(name):
            assert SUBSTITUTION.fullmatch(value), f"{name} is written into the file"


def test_compose_refuses_to_start_without_a_database_password_and_says_how_to_set_one() -> None:
    uses = [
        (operator, argument)
        for text in every_string(COMPOSE)
        for name, operator, argument in SUBSTITUTION.findall(text)
        if name == "POSTGRES_PASSWORD"
    ]
    assert SUBSTITUTION.fullmatch(SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"])
    assert len(uses) >= 2  # the server's password and the database URL of migrate and api
    for operator, argument in uses:
        assert operator == ":?"  # unset or empty stops `docker compose` with this message
        assert "POSTGRES_PASSWORD=" in argument
        assert "docker compose up" in argument
    url = SERVICES["api"]["environment"]["WLBTRACK_DATABASE_URL"]
    assert re.fullmatch(r"postgresql://wlbtrack:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432/wlbtrack", url)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    compose = readme[readme.index("### Docker Compose") :]
    assert "refuses to start" in compose[: compose.index("\n## ")]


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's stages, each a list of instructions (continuation lines joined, comments dropped)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(r"\\\n\s*", "", text)  # join continuation lines
    stages: list[list[str]] = []
    for line in logical.splitlines():
        instruction = " ".join(line.split())
        if not instruction or instruction.startswith("#"):
            continue
        if instruction.startswith("FROM "):
            stages.append([])
        stages[-1].append(instruction)
    return stages


def test_the_image_installs_the_built_wheel_and_nothing_else_from_the_checkout() -> None:
    *builders, image = dockerfile_stages()
    assert builders, "a build stage makes the wheel"
    build = builders[-1]
    build_name = build[0].split(" AS ")[-1]
    assert any(re.fullmatch(r"RUN pip wheel --no-deps --wheel-dir (\S+) \.", step) for step in build)
    copied = {step.split()[1] for step in build if step.startswith("COPY ")}
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]
    shipped = set(wheel["targets"]["wheel"]["force-include"]) | {"src"}
    assert shipped <= copied  # the build stage has everything the wheel takes in
    assert re.fullmatch(r"FROM python:3\.\d+-slim", image[0])  # which release is the file's choice
    copies = [step for step in image if step.startswith("COPY")]
    # the wheel only: no source, scripts or seed
    assert copies == [f"COPY --from={build_name} /dist /tmp/dist"]
    assert any(step.startswith("RUN pip install /tmp/dist/*.whl") for step in image)
    assert "USER wlbtrack" in image
    assert image[-1] == 'CMD ["wlbtrack", "serve", "--host", "0.0.0.0", "--no-migrate"]'


def test_the_image_needs_no_path_variables() -> None:
    for stage in dockerfile_stages():
        for step in stage:
            assert "_PATH" not in step, step


def test_the_operations_section_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    operations = readme[readme.index("## Operations") :]
    operations = operations[: operations.index("\n## ", 1)]
    documented = set(
        re.findall(r"^\| `(WLBTRACK_[A-Z_]+)`(?: / `(WLBTRACK_[A-Z_]+)`)?", operations, re.MULTILINE)
    )
    names = {name for pair in documented for name in pair if name}
    assert names == SETTINGS_VARIABLES
