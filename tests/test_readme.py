"""README.md's settings table names every setting, and its plain defaults are the real ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from botbill.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
PREFIX = Settings.model_config["env_prefix"]


def settings_table() -> dict[str, str]:
    """The rows of the table under ``## Settings``: variable → its default cell."""
    section = README.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        found = re.fullmatch(r"`([A-Z0-9_]+)`", cells[0])
        if found is None:
            continue
        assert found[1] not in rows, f"{found[1]} is listed twice"
        rows[found[1]] = cells[1]
    return rows


def test_the_table_lists_every_setting_and_no_other() -> None:
    expected = {PREFIX.upper() + name.upper() for name in Settings.model_fields}
    assert set(settings_table()) == expected


def plain_defaults() -> list[tuple[str, str]]:
    """(setting, README default) where the cell is one value, perhaps with a note in
    brackets; a described default ("a development value") is not compared."""
    plain = []
    for name in Settings.model_fields:
        cell = settings_table().get(PREFIX.upper() + name.upper(), "")
        found = re.fullmatch(r"`([^`]+)`( \(.*\))?", cell)
        if found is not None:
            plain.append((name, found[1]))
    return plain


@pytest.mark.parametrize(("name", "written"), plain_defaults())
def test_a_plain_default_is_the_real_one(name: str, written: str) -> None:
    field = Settings.model_fields[name]
    assert field.annotation is not None
    assert TypeAdapter(field.annotation).validate_python(written) == field.default
