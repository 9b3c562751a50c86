"""The repository URL Colab installs from and opens the notebooks at: one setting, kept in step.

It lives in both notebooks' parameters cells (`REPO_URL = "…"`, what their Colab cells
`pip install` from), in pyproject.toml (`[project.urls] Repository`) and in the README's "Open in
Colab" badges. After a fork or a move, set it everywhere at once (tests/test_repo_url.py checks
they agree):

    python scripts/set_repo_url.py https://github.com/you/personseg
    python scripts/set_repo_url.py            # print where it is set, and to what
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("Dataset Preparation.ipynb", "Model.ipynb")
GITHUB = re.compile(r"https://github\.com/([\w.-]+)/([\w.-]+)")
NOTEBOOK_SETTING = re.compile(r'(REPO_URL = \\")(https://github\.com/[\w.-]+/[\w.-]+)(\\")')  # JSON-escaped
PYPROJECT_SETTING = re.compile(r'^(Repository = ")(https://github\.com/[\w.-]+/[\w.-]+)(")', re.M)
BADGE = re.compile(r"https://colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/main/([^)\s]+)")


def badge_url(repo_url: str, notebook: str) -> str:
    owner, name = GITHUB.fullmatch(repo_url).groups()
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/main/{quote(notebook)}"


def settings(root: Path = REPO) -> dict[str, str]:
    """Where the URL is written → the URL written there (a badge as the repository it opens)."""
    found = {}
    for name in NOTEBOOKS:
        for i, match in enumerate(NOTEBOOK_SETTING.finditer((root / name).read_text())):
            found[f"{name} #{i + 1}"] = match.group(2)
    for match in PYPROJECT_SETTING.finditer((root / "pyproject.toml").read_text()):
        found["pyproject.toml"] = match.group(2)
    for match in BADGE.finditer((root / "README.md").read_text()):
        found[f"README.md badge {match.group(2)}"] = f"https://github.com/{match.group(1)}"
    return found


def set_url(url: str, root: Path = REPO) -> None:
    if not GITHUB.fullmatch(url) or url.endswith(".git"):
        raise SystemExit(f"error: {url}: expected https://github.com/OWNER/NAME (no .git: the Colab badges "
                         "need the bare name)")
    for name in NOTEBOOKS:
        path = root / name
        path.write_text(NOTEBOOK_SETTING.sub(lambda m: m.group(1) + url + m.group(3), path.read_text()))
    path = root / "pyproject.toml"
    path.write_text(PYPROJECT_SETTING.sub(lambda m: m.group(1) + url + m.group(3), path.read_text()))
    path = root / "README.md"
    path.write_text(BADGE.sub(lambda m: badge_url(url, m.group(2).replace("%20", " ")), path.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="https://github.com/OWNER/NAME")
    args = parser.parse_args(argv)
    if args.url:
        set_url(args.url)
    for place, url in settings().items():
        print(f"{place}: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
