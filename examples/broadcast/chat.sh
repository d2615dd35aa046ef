#!/usr/bin/env bash
# A chat room, one program for every client:
#
#   wsexec --broadcast --broadcast-events examples/broadcast/chat.sh
#
# It greets each client by the name in its query (ws://HOST/?name=NAME),
# announces arrivals and departures, and prefixes every message with its
# sender's name. e2e/broadcast_test.go (TestBroadcastChat) drives it.
declare -A names

# unescape undoes the %XX escapes of a join event's values.
unescape() { printf '%b' "${1//%/\\x}"; }

while IFS= read -r line; do
	id=${line%% *}
	case $id in
	+*) # +ID NAME=VALUE ...
		id=${id#+} name="guest$id" agent=
		read -r -a vars <<<"${line#* }" # split at spaces, no globbing
		for kv in "${vars[@]}"; do
			case $kv in
			QUERY_STRING=name=*) name=$(unescape "${kv#QUERY_STRING=name=}") ;;
			HTTP_USER_AGENT=*) agent=$(unescape "${kv#HTTP_USER_AGENT=}") ;;
			esac
		done
		names[$id]=$name
		echo "@$id welcome $name ($agent)"
		echo "$name joined"
		;;
	-*) # -ID
		id=${id#-}
		echo "${names[$id]} left"
		unset "names[$id]"
		;;
	*) # ID message
		echo "${names[$id]}: ${line#* }"
		;;
	esac
done
