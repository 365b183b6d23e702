"""The one test helper for config text: load a TOML text as Settings, or get its one-line refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkd.config import ConfigError, Settings, load_settings


def load_text(tmp_path: Path, text: str) -> Settings:
    """Settings from `text` written to a checkd.toml in `tmp_path` (data dir `tmp_path`)."""
    path = tmp_path / "checkd.toml"
    path.write_text(text)
    return load_settings(path, data_dir=tmp_path)


def assert_refused(tmp_path: Path, text: str, key: str, why: str) -> None:
    """`text` is refused with one line that starts with `config: <key>: ` and says `why`."""
    with pytest.raises(ConfigError) as err:
        load_text(tmp_path, text)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"config: {key}: "), message
    assert why in message, message
