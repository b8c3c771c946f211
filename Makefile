# SPDX-License-Identifier: MIT
# Thin wrapper around CMake for the README's commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-asan demo bench package clean

all: build

deps:
	sh packaging/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DWM_WERROR=ON
	cmake --build $(BUILD) -j $(JOBS)

# Every test: the normal build (unit, integration), then the unit tests and
# the fuzz targets again under ASan + UBSan, built with clang.
test: build
	cd $(BUILD) && ctest --output-on-failure -j 2
	$(MAKE) test-asan

test-asan: deps
	CC=clang cmake -S . -B $(ASAN_BUILD) -DWM_WERROR=ON -DWM_SANITIZE=ON -DWM_FUZZ=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j 2 -L 'unit|fuzz'

demo: build
	bash tests/demo.sh $(BUILD)

bench: build
	bash tests/bench/run.sh $(BUILD)

# Debian packages wmsync-daemon and wmsync-cli (CPack) into $(BUILD)/;
# packaging/README.md describes them.
package: build
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
