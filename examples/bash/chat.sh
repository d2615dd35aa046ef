#!/usr/bin/env bash
# chat.sh: a chat room. Every connection shares one room file; each message a
# client sends is appended to it as "[ADDR:PORT] text", and every client sees
# each new line of the room as it is written.
#
# Run:  bin/wsexec --port=8080 --devconsole examples/bash/chat.sh
#       then open http://localhost:8080/ in two browser tabs.
# Env:  CHAT_ROOM  the room file (default ${TMPDIR:-/tmp}/wsexec-chat.log).
#       wsexec passes a program only the variables --passenv names, so:
#       CHAT_ROOM=/tmp/room.log bin/wsexec --port=8080 --passenv=PATH,CHAT_ROOM examples/bash/chat.sh

room=${CHAT_ROOM:-${TMPDIR:-/tmp}/wsexec-chat.log}
touch -- "$room" || exit 1

# Print what others (and we) add to the room from now on.
tail -n 0 -F -- "$room" 2>/dev/null &
tailpid=$!
trap 'kill "$tailpid" 2>/dev/null; wait "$tailpid" 2>/dev/null' EXIT
trap 'exit 0' INT TERM HUP

who="[${REMOTE_ADDR:-local}:${REMOTE_PORT:-0}]"
while IFS= read -r line; do
	# One printf with >> per line: a single short O_APPEND write, so lines
	# from concurrent clients never interleave.
	printf '%s %s\n' "$who" "$line" >>"$room"
done
