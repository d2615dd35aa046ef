#!/usr/bin/env python3
"""count.py: send the numbers 1..N to the client, one message every half
second, then exit 0 (which closes the connection normally).

Run:  bin/wsexec --port=8080 --devconsole examples/python/count.py
      then open http://localhost:8080/ in a browser.
Args: N (default 10), e.g. `bin/wsexec --port=8080 examples/python/count.py 5`.

stdout is a pipe, so Python block-buffers it: flush=True sends each line now.
"""

import sys
import time


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    for i in range(1, n + 1):
        if i > 1:
            time.sleep(0.5)
        print(i, flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # wsexec sends SIGINT when the client leaves
        sys.exit(0)
