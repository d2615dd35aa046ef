#!/usr/bin/env bash
# count.sh: send the numbers 1..N to the client, one message every half second,
# then exit 0 (which closes the connection normally).
#
# Run:  bin/wsexec --port=8080 --devconsole examples/bash/count.sh
#       then open http://localhost:8080/ in a browser.
# Args: N (default 10), e.g. `bin/wsexec --port=8080 examples/bash/count.sh 5`.

n=${1:-10}
for ((i = 1; i <= n; i++)); do
	((i > 1)) && sleep 0.5
	echo "$i"
done
