"""The README's commands work when copied in order on a fresh machine."""
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _code_lines(text: str):
    """(line number, line) of every line inside a ```bash block."""
    inside = False
    for i, line in enumerate(text.splitlines(), 1):
        if line.startswith('```'):
            inside = line.strip() == '```bash' if not inside else False
            continue
        if inside:
            yield i, line.strip()


def test_venv_activated_before_the_first_python_command():
    """`make demo` builds .venv; a copied `python tools/...` must not run the
    system Python without mmequi, so activation comes first (issue 12)."""
    text = open(osp.join(REPO, 'README.md')).read()
    lines = list(_code_lines(text))
    activate = [i for i, ln in lines if ln.startswith('source .venv/bin/activate')]
    python = [i for i, ln in lines
              if re.match(r'(python|tools/\S+\.sh|torchrun)\b', ln)]
    assert activate, 'README has no `source .venv/bin/activate` line'
    assert python, 'README has no python/tools command (test out of date?)'
    assert activate[0] < python[0], (
        f'README line {python[0]} runs a tool before .venv is activated '
        f'(line {activate[0]})')
