#!/usr/bin/env python3
"""greeter.py: answer every message "NAME" with "Hello, NAME!".
Exits when the client disconnects (stdin closes).

Run:  bin/wsexec --port=8080 --devconsole examples/python/greeter.py
Try:  printf 'bob\\n' | examples/python/greeter.py

stdout is a pipe, so Python block-buffers it: flush=True sends each line now.
"""

import sys


def main() -> int:
    for line in sys.stdin:
        name = line.rstrip("\n")
        print(f"Hello, {name}!", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # wsexec sends SIGINT when the client leaves
        sys.exit(0)
