#!/bin/sh
exec "${QS6_BUILD:-$(dirname "$0")/../../build}/tests/mbox"
