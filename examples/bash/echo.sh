#!/usr/bin/env bash
# echo.sh: send every message straight back to the client.
# Exits when the client disconnects (stdin closes).
#
# Run:  bin/wsexec --port=8080 --devconsole examples/bash/echo.sh

while IFS= read -r line; do
	printf '%s\n' "$line"
done
