"""The README's Python example runs as written."""

from __future__ import annotations

import re

from spreadlab.testing import repo_root


def test_readme_python_example_runs() -> None:
    text = (repo_root() / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "README has no python example"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
