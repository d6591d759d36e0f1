"""The tests' JupyterLab gets its token through the environment, not the command line."""

from __future__ import annotations

from pathlib import Path

from lab_launch import lab_command


def test_the_token_travels_in_the_environment_only(tmp_path: Path) -> None:
    command, env = lab_command(8123, tmp_path, "s3cret-token", {"HOME": str(tmp_path)})
    assert not any("s3cret-token" in part for part in command)
    assert env == {"HOME": str(tmp_path), "JUPYTER_TOKEN": "s3cret-token"}
    assert "--ServerApp.ip=127.0.0.1" in command and "--ServerApp.port=8123" in command
