"""docs/first-rule.md: the steps a reader follows one at a time are the steps its final script runs."""

from __future__ import annotations

from .conftest import ROOT
from .test_examples import blocks

WALKTHROUGH = ROOT / "docs" / "first-rule.md"


def test_every_step_shown_is_run_by_the_script_at_the_end() -> None:
    """Each command of a step (its bash blocks are marked illustrative because each continues the one
    before) appears in the one block that runs them all, so a step cannot drift from what is tested."""
    found = [b for b in blocks(WALKTHROUGH) if b.language == "bash"]
    script = found[-1]
    assert script.marker == "run"
    steps = [b for b in found[:-1] if b.marker and "the script at the end of this page" in b.marker]
    assert len(steps) >= 5
    script_lines = [line for line in script.code.splitlines() if not line.startswith("#")]
    for step in steps:
        for command in (line.strip() for line in step.code.splitlines()):
            if command and not command.startswith("#"):
                assert any(command in line for line in script_lines), (step.where, command)
