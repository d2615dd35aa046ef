#!/bin/sh
# A program written for websocketd, as its users write them: it routes on
# PATH_INFO (websocketd gives a single COMMAND the whole request path
# there, and SCRIPT_NAME=/) and builds its own links from SCRIPT_NAME.
case "$PATH_INFO" in
/rooms/*) echo "room ${PATH_INFO#/rooms/}" ;;
/time) echo "time" ;;
*)
	echo "no route for PATH_INFO='$PATH_INFO'"
	exit 1
	;;
esac
echo "link ${SCRIPT_NAME%/}/time"
