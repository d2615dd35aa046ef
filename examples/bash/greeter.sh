#!/usr/bin/env bash
# greeter.sh: answer every message "NAME" with "Hello, NAME!".
# Exits when the client disconnects (stdin closes).
#
# Run:  bin/wsexec --port=8080 --devconsole examples/bash/greeter.sh
# Try:  printf 'bob\n' | examples/bash/greeter.sh

while IFS= read -r name; do
	printf 'Hello, %s!\n' "$name"
done
