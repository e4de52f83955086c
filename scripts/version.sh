#!/bin/sh
# The version `make build` stamps into munja and `make deb`/`make rpm` give
# the packages: a tag v1.2.3 gives 1.2.3, 4 commits after it 1.2.3.4.gHASH;
# with no tag, 0.0.0~gitHASH (~ sorts before any release). ".dirty" when
# tracked files changed. Only characters both dpkg and rpm accept.
v=$(git describe --tags --match 'v[0-9]*' --dirty=.dirty 2>/dev/null) &&
	{ echo "${v#v}" | tr - .; exit 0; }
h=$(git rev-parse --short HEAD 2>/dev/null) || { echo 0.0.0~dev; exit 0; }
if git diff --quiet HEAD 2>/dev/null; then
	echo "0.0.0~git$h"
else
	echo "0.0.0~git$h.dirty"
fi
