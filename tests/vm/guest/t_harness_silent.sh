#!/bin/sh
# Harness self-test: prints nothing and exits 0.
exit 0
