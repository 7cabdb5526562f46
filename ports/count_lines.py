"""Code lines of a port and of its Python original, counted the same way.

A code line is a line that holds code once comments and documentation are
removed and blank lines dropped: for Rust (after `cargo fmt`), lines whose
first non-blank characters are not `//` (so `//`, `///` and `//!` lines are
not counted); for Python, lines holding a token other than a comment, a
newline, or a docstring (a string that is a whole statement). Python: every
`.py` file of the module except `tests/`, `dev.py` and `setup.py`; Rust:
every `.rs` file under the port's `src/`.

    python3 ports/count_lines.py ports/shodan /work/automation-library/Shodan
"""

import io
import sys
import tokenize
from pathlib import Path


def rust_lines(crate: Path) -> int:
    count = 0
    for path in sorted(crate.glob("src/**/*.rs")):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("//"):
                count += 1
    return count


def python_lines(module: Path) -> int:
    count = 0
    for path in sorted(module.rglob("*.py")):
        relative = path.relative_to(module)
        if relative.parts[0] in ("tests", "dev.py", "setup.py"):
            continue
        text = path.read_text()
        lines = set()
        previous = tokenize.NEWLINE
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER):
                if kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                    previous = kind
                continue
            is_docstring = kind == tokenize.STRING and previous in (
                tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
            previous = kind
            if is_docstring:
                continue
            lines.update(range(token.start[0], token.end[0] + 1))
        count += len(lines)
    return count


if __name__ == "__main__":
    port, original = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    rust, python = rust_lines(port), python_lines(original)
    print(f"{port.name}: Rust {rust}, Python {python}, ratio {rust / python:.2f}")
