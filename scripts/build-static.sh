#!/usr/bin/env bash
# The deployment build of `warren`: one fully static executable (Swift runtime, Foundation, librabbitmq and
# OpenSSL linked in; no dynamic loader at start-up), into .build-fullstatic/release/warren.
# Static linking is what keeps an idle worker near 20 MB resident: a dynamically linked build spends its first
# page faults relocating a dozen shared libraries and stays at about 27 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
swift build -c release --product warren --scratch-path .build-fullstatic \
  -Xswiftc -static-executable -Xlinker -lssl -Xlinker -lcrypto -Xlinker --gc-sections "$@"
echo ".build-fullstatic/release/warren"
