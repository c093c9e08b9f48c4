"""The clipboard-clearing helper: `python -m agent.vault.clear_clipboard SECONDS TOOL`, the SHA-256 of the
secret on stdin (never in argv). It waits, then clears the clipboard only if it still holds that secret, so
anything the user copied since is left alone.

`agent.vault.clipboard.schedule_clear` starts it detached (its own session), so a one-shot `agent ask` that
exits at once still gets its clipboard cleared. It imports the clipboard code only once the wait is over.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]

_LOGGER = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m agent.vault.clear_clipboard SECONDS TOOL  (SHA-256 on stdin)",  # noqa: T201
              file=sys.stderr)
        return 2
    after, tool_name = float(args[0]), args[1]
    secret_digest = sys.stdin.readline().strip()
    time.sleep(max(0.0, after))
    from agent.vault.clipboard import clear_if_unchanged, tool_named

    try:
        clear_if_unchanged(secret_digest, tool_named(tool_name))
    except Exception:
        _LOGGER.exception("could not clear the clipboard")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
