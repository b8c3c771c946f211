# SPDX-License-Identifier: MIT
# Thin wrapper around CMake for the README's commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-asan test-arm64 test-province test-links demo bench package clean

all: build

deps:
	sh packaging/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DWM_WERROR=ON
	cmake --build $(BUILD) -j $(JOBS)

# Every test: the normal build (unit, integration), then the unit tests and
# the fuzz targets again under ASan + UBSan, built with clang.
# Then the arm64 build's short form (unit tests and one sync, under
# qemu-user), skipped with a message where its toolchain is not installable.
test: build
	cd $(BUILD) && ctest --output-on-failure -j 2
	$(MAKE) test-asan
	bash tests/cross/run.sh arm64 quick || [ $$? -eq 77 ]

test-asan: deps
	CC=clang cmake -S . -B $(ASAN_BUILD) -DWM_WERROR=ON -DWM_SANITIZE=ON -DWM_FUZZ=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit_and_fuzz
	cd $(ASAN_BUILD) && ctest --output-on-failure -j 2 -L 'unit|fuzz'

# The province simulation at full scale (make test runs a reduced shape):
# 1 province <- 4 counties <- 40 towns <- 2,000 stations (a few minutes).
test-province: build
	PROVINCE_SHAPE="4 10 50" bash tests/integration/it_province.sh $(BUILD)/cli/wmctl \
		$(BUILD)/daemon/wmsyncd $(BUILD)/tests/integration/sim_town

# The link tests (tests/linkemu) in their full length: flapping for 3
# minutes, a 2-minute blackhole, a 60 s NAT timeout … (~12 min); make test
# runs them in a short form.
test-links: build
	bash tests/linkemu/run_links.sh $(BUILD)

demo: build
	bash tests/demo.sh $(BUILD)

bench: build
	bash tests/bench/run.sh $(BUILD)

# arm64 cross build (docs/porting.md): every test under qemu-user, and the
# packages checked; build-arm64/ keeps the sysroot between runs.
test-arm64:
	bash tests/cross/run.sh arm64 full

# Debian packages wmsync-daemon and wmsync-cli (CPack) into $(BUILD)/;
# packaging/README.md describes them. ARCH=arm64: cross-built into
# build-arm64/build/ (packaging/cross.sh).
ifeq ($(ARCH),)
package: build
	cd $(BUILD) && cpack -G DEB
else
package:
	JOBS=$(JOBS) sh packaging/cross.sh $(ARCH) build-$(ARCH)
endif

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-arm64
