#!/bin/bash -eu
# ClusterFuzzLite runs this; the build lives in one place.
exec "$SRC/lsecho/ci/oss-fuzz/build.sh"
