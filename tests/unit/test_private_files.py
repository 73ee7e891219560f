"""Secrets and the demo's store API keys are created 0600 from the start (issue 11, item 6): never written into a
file others may read and chmod-ed afterwards."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from devstack import cli
from devstack.private import write_private


@pytest.fixture
def no_chmod(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chmod after the fact would leave a window where the file is readable: none may happen."""
    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("chmod after writing")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(Path, "chmod", refuse)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_private_file_is_0600_even_with_an_open_umask_and_replaces_an_open_file(tmp_path: Path,
                                                                                 no_chmod: None) -> None:
    old = os.umask(0)
    try:
        target = tmp_path / "demo.json"
        target.write_text("old")
        os.umask(0)
        target.touch(mode=0o666)
        write_private(target, '{"api_key": "vip_x"}')
    finally:
        os.umask(old)
    assert _mode(target) == 0o600 and target.read_text() == '{"api_key": "vip_x"}'
    assert [p.name for p in tmp_path.iterdir()] == ["demo.json"]  # no temporary left behind


def test_dev_secrets_file_is_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_chmod: None) -> None:
    monkeypatch.setattr(cli, "HOME", tmp_path / "dev")
    old = os.umask(0)
    try:
        s = cli._secrets()
    finally:
        os.umask(old)
    path = tmp_path / "dev" / "secrets.json"
    assert _mode(path) == 0o600 and json.loads(path.read_text())["admin_token"] == s["admin_token"]


def test_demo_file_with_store_keys_goes_through_write_private() -> None:
    from devstack import demo

    src = Path(demo.__file__).read_text()
    assert "write_private(out," in src and ".write_text(" not in src  # the demo document (store API keys)
