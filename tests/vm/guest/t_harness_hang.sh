#!/bin/sh
# Harness self-test: never ends (an interruptible sleep, so no hung-task
# report), for the host's time limit to catch.
echo "ok - about to hang (harness self-test)"
while :; do sleep 3600; done
