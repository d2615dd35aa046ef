#!/usr/bin/env bash
# json-inspect.sh: an endpoint for --framing=json, in bash with jq. Each
# message the client sends is answered with a text message saying its type
# and size, then sent back exactly as it came.
#
# Run:  wsexec --port=8080 --devconsole --framing=json examples/bash/json-inspect.sh
# Try:  printf '%s\n' '{"type":"text","data":"two\nlines"}' '{"type":"binary","data":"AAEC/w=="}' |
#           examples/bash/json-inspect.sh
#
# In --framing=json every message is one line on stdin:
#   {"type":"text","data":"..."}        data: the text, as a JSON string
#   {"type":"binary","data":"..."}      data: the bytes, in base64
# and every line written to stdout in that shape is one message to the
# client. jq reads and writes them; a message's newlines stay inside its
# line as \n, so `read` gets one message at a time, however many lines it
# holds. (For speed, one long-running jq can do the whole job:
#   wsexec --framing=json jq -c --unbuffered '{type:"text",data:"got \(.type)"}, .'
# answers and echoes every message without starting a process for each.)

while IFS= read -r msg; do
	type=$(jq -r .type <<<"$msg")
	if [[ $type == binary ]]; then
		size=$(jq -r .data <<<"$msg" | base64 -d | wc -c)
	else
		size=$(jq -j .data <<<"$msg" | wc -c)
	fi
	# --arg makes a JSON string of any text, quotes and newlines included.
	jq -cn --arg data "got $type, $((size)) bytes" '{type: "text", data: $data}'
	printf '%s\n' "$msg"
done
