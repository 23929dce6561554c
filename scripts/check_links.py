#!/usr/bin/env python3
"""Every relative link and image in the repository's Markdown files names a file that exists.

Checks README.md, docs/*.md and datasets/**/README.md: Markdown links and images
([text](target), ![alt](target)) and HTML <img src="..."> / <a href="...">. Targets with a
scheme (http:, https:, mailto:) and pure anchors (#section) are not checked; an anchor after a
path (FILE.md#section) checks the path only. Prints one line per broken link and exits 1 if
there is any. Standard library only.
"""
import argparse
import pathlib
import re
import sys

MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"")
FENCE = re.compile(r"^\s*(```|~~~)")


def targets(text):
    """Yields (line number, target) of every link outside fenced code blocks."""
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        line = re.sub(r"`[^`]*`", "", line)  # inline code is not a link
        for pattern in (MARKDOWN_LINK, HTML_LINK):
            for match in pattern.finditer(line):
                yield number, match.group(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, type=pathlib.Path)
    root = parser.parse_args().root.resolve()
    files = [root / "README.md", *sorted((root / "docs").glob("*.md")),
             *sorted((root / "datasets").glob("**/README.md"))]
    broken = 0
    checked = 0
    for path in files:
        if not path.exists():
            continue
        for number, target in targets(path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            checked += 1
            relative = target.split("#", 1)[0]
            if not (path.parent / relative).exists():
                print(f"{path.relative_to(root)}:{number}: broken link: {target}")
                broken += 1
    print(f"{checked} relative links in {len(files)} files, {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
