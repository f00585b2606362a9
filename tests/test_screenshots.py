"""Every picture the README shows is made by a script in scripts/, so `make screenshots` keeps it current."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ["scripts/screenshots.py", "scripts/classroom_screenshots.py", "scripts/messaging_screenshots.py"]


def _script_names() -> set[str]:
    """The file names the scripts write: each shoot(page, "name"), after the script's prefix if it has one."""
    names = set()
    for script in SCRIPTS:
        source = (ROOT / script).read_text()
        prefix = re.search(r'OUT / f"(\w+-)\{name\}\.png"', source)
        names |= {f"{prefix.group(1) if prefix else ''}{name}.png"
                  for name in re.findall(r'shoot\([\w.]+,\s*"([\w-]+)"', source)}
    return names


def test_every_readme_picture_is_made_by_a_script_and_exists():
    shown = re.findall(r"\]\((docs/screenshots/[\w.-]+\.png)\)", (ROOT / "README.md").read_text())
    assert shown, "the README shows no screenshots"
    made = _script_names()
    for path in shown:
        assert (ROOT / path).is_file(), f"{path} is missing: run `make screenshots`"
        assert Path(path).name in made, f"{path} is not made by any of {SCRIPTS}"


def test_the_makefile_runs_every_screenshot_script():
    makefile = (ROOT / "Makefile").read_text()
    for script in SCRIPTS:
        assert script in makefile
