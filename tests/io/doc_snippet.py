"""Runs or returns the Python code block of a section of docs/FORMAT.md, so that the tests run
the snippets users copy, not a copy of them.

Usage: doc_snippet.py FORMAT_MD "SECTION HEADING"   (executes the block in the current folder)
"""
import sys


def snippet(format_md, heading):
    """The first ```python block after the line "## <heading>"."""
    lines = open(format_md, encoding="utf-8").read().splitlines()
    start = lines.index("## " + heading)
    begin = lines.index("```python", start) + 1
    end = lines.index("```", begin)
    return "\n".join(lines[begin:end]) + "\n"


if __name__ == "__main__":
    code = snippet(sys.argv[1], sys.argv[2])
    exec(compile(code, f"{sys.argv[1]} ({sys.argv[2]})", "exec"), {"__name__": "__snippet__"})
