#!/bin/sh
# Python side of the Flower SecAgg+ side-by-side benchmark (issue #19).
# Debian's python3 (3.11) with its cryptography package (38.x) and numpy;
# no PyPI needed. Run as root (or prefix apt-get with sudo).
set -eu
apt-get install -y --no-install-recommends python3 python3-cryptography python3-numpy python3-pycryptodome
/usr/bin/python3 -c 'import numpy, cryptography; print("numpy", numpy.__version__, "cryptography", cryptography.__version__)'
