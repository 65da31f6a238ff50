"""docker-compose.yml and the Dockerfile can't be run here (no Docker engine): check them by reading."""

import re
from pathlib import Path

import yaml

from spek.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_has_every_part_with_health_checks() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "api", "worker"} <= set(services)
    assert "pgvector" in services["postgres"]["image"]
    for name in ("postgres", "redis", "minio", "api", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert services["api"]["command"] == ["spek", "serve"]
    assert services["worker"]["command"] == ["spek", "worker"]
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "spek", "worker", "--check"]


def test_compose_sets_only_settings_spek_reads() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    known = {field.validation_alias for field in Settings.model_fields.values()}
    for name in ("api", "worker", "migrate"):
        environment = compose["services"][name]["environment"]
        assert {"DATABASE_URL", "REDIS_URL", "SPEK_JWT_SECRET"} <= set(environment)
        unknown = {key for key in environment if key not in known and not key.startswith("AWS_")}
        assert unknown == set(), f"{name} sets {unknown}, which no setting reads"


def test_dockerfile_copies_what_the_package_needs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \./", dockerfile, re.M))
    assert {"spek", "graphql_schema", "jobs", "migrations", "static"} <= copied
    assert "torch==2.13.0" in dockerfile
    assert 'CMD ["spek", "serve"]' in dockerfile


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for field in Settings.model_fields.values():
        assert f"`{field.validation_alias}`" in readme, f"{field.validation_alias} is not documented"
