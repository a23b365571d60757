"""The real settings module, loaded in a fresh process the way production loads it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "prod-" + "x7Qp2" * 12,
    "DJANGO_ALLOWED_HOSTS": "governance.example.org",
    "DATABASE_URL": "postgres://app@db.example.org:5432/governance",
    "REDIS_URL": "redis://redis.example.org:6379/0",
}


def _manage(*args, env, tmp_path):
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "APP_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_debug_off(tmp_path):
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "short"}, "at least 50 characters"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS must be set"),
        ({"DJANGO_DEBUG": "ture"}, "DJANGO_DEBUG='ture' is not a boolean"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL must be a URL with one of the schemes"),
        ({"DATABASE_URL": "sqlite:///x.db"}, "DATABASE_URL must be a URL with one of the schemes"),
        ({"REDIS_URL": ""}, "REDIS_URL must be set when DATABASE_URL is set"),
        ({"EMAIL_URL": "smtp://mail:notaport"}, "EMAIL_URL has an invalid port"),
    ],
)
def test_a_bad_setting_stops_the_process_naming_the_variable(tmp_path, change, message):
    result = _manage("check", env={**PRODUCTION, **change}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_embedded_default_needs_no_configuration(tmp_path):
    result = _manage("check", env={}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
