# faultline — build, test, demo, bench, fuzz.
#
#   make                 build build/faultline and build/transferd
#   make test            build and run every test (units, scenario self-tests, e2e drivers)
#   make test SANITIZE=address,undefined   the same under sanitizers (in build/san/)
#   make demo            start the reference system, run scenarios and a chaos run, report
#   make bench           benchmarks (ratios against baselines measured in the same run)
#   make fuzz            libFuzzer targets (tests/fuzz/), FUZZ_S seconds each (default 60)
#   make mutate          mutation testing of the shipped systems (docs/mutation.md)
#   make format-check    list the C files whose layout departs from .clang-format
#   make install PREFIX=/usr/local
#   make deb             a Debian package (build/faultline_VERSION_ARCH.deb, Depends from the binaries)
#   make image-rootfs    build/rootfs: the programs and their libraries for a FROM scratch image
#   V=1                  show the commands
#
# Every dependency is found with pkg-config; when one is missing the Makefile
# runs ci/install-deps.sh (Debian packages) and says so.

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
# objects made through pattern chains (tests, helpers) are kept, not deleted as intermediates
.SECONDARY:

PREFIX   ?= /usr/local
CC       ?= cc
SANITIZE ?=
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
say       = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' $(1) $(2);)

ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build/san
endif

PKGS := libcurl jansson libpcap lua5.4 libevent libevent_pthreads libevent_openssl openssl sqlite3 \
        cmocka libpcre2-8 libnftables libnl-route-3.0

# --- dependencies ---------------------------------------------------------
NODEPS_GOALS := clean help
ifeq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
else
DEPS_OK := $(shell pkg-config --exists $(PKGS) 2>/dev/null && test -f /usr/include/http_parser.h && echo yes)
ifneq ($(DEPS_OK),yes)
$(info faultline: build dependencies missing (pkg-config: $(PKGS), http_parser.h); running ci/install-deps.sh)
DEPS_RC := $(shell ci/install-deps.sh >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error ci/install-deps.sh failed (exit $(DEPS_RC)); install the packages it names and run make again)
endif
endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lpthread -lm

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -I. -I$(BUILD)/gen $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS)
ifneq ($(SANITIZE),)
ALL_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

# --- components: one static library each ---------------------------------
# name:directory; a component's sources are every .c in its directory except
# its program mains.
COMPONENTS := core:core report:report proxy:fault-injector contract:contract checkers:checkers \
              launcher:launcher ref:transfer-system hostfault:hostfault
MAINS      := cli/main.c transfer-system/transferd.c

comp_name = $(word 1,$(subst :, ,$(1)))
comp_dir  = $(word 2,$(subst :, ,$(1)))
srcs_of   = $(filter-out $(MAINS),$(wildcard $(1)/*.c))
objs_of   = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

define component
SRCS_$(call comp_name,$(1)) := $(call srcs_of,$(call comp_dir,$(1)))
LIB_$(call comp_name,$(1))  := $(if $$(SRCS_$(call comp_name,$(1))),$(BUILD)/libfl$(call comp_name,$(1)).a)
$(BUILD)/libfl$(call comp_name,$(1)).a: $$(call objs_of,$$(SRCS_$(call comp_name,$(1)))) \
		$(BUILD)/members/$(call comp_name,$(1))
	$$(call say,AR,$$@)rm -f $$@ && $$(AR) rcs $$@ $$(filter %.o,$$^)
endef
$(foreach c,$(COMPONENTS),$(eval $(call component,$(c))))

# The runner library: the runner, the scheduler, the Lua bindings
# (runner/lua/*.c) and the embedded Lua sources (runner/lua/*.lua).
LUA_SRCS   := $(sort $(wildcard runner/lua/*.lua))
EMBED_C    := $(BUILD)/gen/lua_embed.c
SRCS_runner := $(wildcard runner/*.c) $(wildcard runner/lua/*.c)
LIB_runner := $(BUILD)/libflrunner.a
$(LIB_runner): $(call objs_of,$(SRCS_runner)) $(BUILD)/obj/gen/lua_embed.o $(BUILD)/members/runner
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $(filter %.o,$^)

# The CLI library: every cli source but main.
SRCS_cli   := $(filter-out $(MAINS),$(wildcard cli/*.c))
LIB_cli    := $(BUILD)/libflcli.a
$(LIB_cli): $(call objs_of,$(SRCS_cli)) $(BUILD)/members/cli
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $(filter %.o,$^)

# A library's list of sources, rewritten only when it changes: a source added
# or removed rebuilds the library, so no object of a removed file stays in it.
$(BUILD)/members/%: FORCE
	@mkdir -p $(dir $@)
	@echo '$(SRCS_$*)' | cmp -s - $@ 2>/dev/null || echo '$(SRCS_$*)' > $@
FORCE:

# Generated tables: every cli/cmd_NAME.c is a command (FL_CMD(NAME)), every
# runner/lua/NAME.c a Lua C module "faultline.NAME" (FL_LUAMOD(NAME)).
CMD_SRCS    := $(sort $(wildcard cli/cmd_*.c))
LUAMOD_SRCS := $(sort $(wildcard runner/lua/*.c))
$(BUILD)/gen/commands.inc: $(CMD_SRCS) Makefile
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)for f in $(CMD_SRCS); do n=$${f#cli/cmd_}; echo "FL_CMD($${n%.c})"; done > $@
$(BUILD)/gen/luamods.inc: $(LUAMOD_SRCS) Makefile
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)for f in $(LUAMOD_SRCS); do n=$${f#runner/lua/}; echo "FL_LUAMOD($${n%.c})"; done > $@
$(call objs_of,$(SRCS_cli) cli/main.c tests/unit/test_cli.c): $(BUILD)/gen/commands.inc
$(call objs_of,$(SRCS_runner)): $(BUILD)/gen/luamods.inc

$(EMBED_C): $(LUA_SRCS) transfer-system/topology.lua tools/embed-lua.sh
	@mkdir -p $(dir $@)
	$(call say,EMBED,$@)sh tools/embed-lua.sh $(LUA_SRCS) faultline.ref.topology=transfer-system/topology.lua > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/gen/lua_embed.o: $(EMBED_C)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -c $< -o $@

ALL_LIBS := $(LIB_cli) $(LIB_runner) $(LIB_launcher) $(LIB_report) $(LIB_contract) $(LIB_checkers) \
            $(LIB_proxy) $(LIB_hostfault) $(LIB_ref) $(LIB_core)
LINK_LIBS = -Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(PKG_LIBS)

# --- layering: the arrows the build allows --------------------------------
# A component's library may call only the components its arrow names. Every
# library is linked whole (a stub main, --whole-archive) against just those
# libraries: a call across a forbidden line is an undefined reference and
# fails `make`. tools/check-layers.sh checks #include lines the same way.
# docs/architecture.md draws these arrows; keep the two in step.
DEPS_core     :=
DEPS_report   := core
DEPS_proxy    := core
DEPS_contract := core
DEPS_checkers := report core
DEPS_launcher := core
DEPS_ref      := core
DEPS_hostfault := core
DEPS_runner   := launcher checkers contract proxy report core
DEPS_cli      := runner launcher checkers contract proxy hostfault report core
LAYERED := core report proxy contract checkers launcher ref hostfault runner cli

$(BUILD)/obj/layer_main.o: tools/layer_main.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/layers/%.ok: $(BUILD)/obj/layer_main.o $(ALL_LIBS) tools/check-layers.sh
	@mkdir -p $(dir $@)
	$(call say,LAYER,$*)$(CC) $(ALL_LDFLAGS) -o $(BUILD)/layers/$* $(BUILD)/obj/layer_main.o \
		-Wl,--whole-archive $(LIB_$*) -Wl,--no-whole-archive \
		$(foreach d,$(DEPS_$*),$(LIB_$(d))) $(PKG_LIBS) && rm -f $(BUILD)/layers/$* && touch $@
$(BUILD)/layers/includes.ok: tools/check-layers.sh Makefile $(foreach c,$(COMPONENTS),$(wildcard $(call comp_dir,$(c))/*.[ch])) $(wildcard cli/*.[ch] runner/*.[ch] runner/lua/*.c)
	@mkdir -p $(dir $@)
	$(call say,LAYER,includes)sh tools/check-layers.sh \
		$(foreach c,$(LAYERED),"$(c):$(DEPS_$(c))") && touch $@
LAYER_OKS := $(patsubst %,$(BUILD)/layers/%.ok,$(LAYERED)) $(BUILD)/layers/includes.ok
layers: $(LAYER_OKS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -DFL_VERSION='"$(VERSION)"' -DFL_GIT_REV='"$(GIT_REV)"' -c $< -o $@

# --- programs -------------------------------------------------------------
PROGRAMS := $(BUILD)/faultline $(if $(wildcard transfer-system/transferd.c),$(BUILD)/transferd)

$(BUILD)/faultline: $(BUILD)/obj/cli/main.o $(ALL_LIBS)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LINK_LIBS)

# transferd knows nothing of the toolkit: the services and core only.
$(BUILD)/transferd: $(BUILD)/obj/transfer-system/transferd.o $(LIB_ref) $(LIB_core)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB_ref) $(LIB_core) $(PKG_LIBS)

all: $(PROGRAMS) $(LAYER_OKS)

# --- tests ----------------------------------------------------------------
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
HELPER_BINS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRCS))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LINK_LIBS)

$(BUILD)/tests/helpers/%: $(BUILD)/obj/tests/helpers/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LINK_LIBS)

tests: $(PROGRAMS) $(UNIT_BINS) $(HELPER_BINS)

# TEST_ONLY=pattern runs the suites whose name matches; QUICK=0 runs the long variants.
test: tests
	@ci/install-deps.sh
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) sh tests/run.sh

test-matrix: tests
	@ci/install-deps.sh
	@BUILD=$(BUILD) QUICK=0 TEST_ONLY=matrix sh tests/run.sh

demo: all $(HELPER_BINS)
	@BUILD=$(BUILD) sh ci/demo.sh

# bench/contract.sh writes its capture with the contract pcap test binary
bench: all $(HELPER_BINS) $(BUILD)/tests/test_contract_pcap
	@ci/install-deps.sh --bench
	@BUILD=$(BUILD) sh bench/run.sh

# The layout .clang-format describes: lists the product C files that depart
# from it (tools/format-check.sh; make test runs it as tests/selftest/format.sh).
format-check:
	@sh tools/format-check.sh

# make mutate: every mutant in mutants/ against its system's suite, which
# stops at its first failing test; a kill is confirmed by rerunning the
# failing tests on the unmutated tree (docs/mutation.md). MUTATE_SEEDS=7,1,3
# tries the seeds in order until one kills; MUTATE_ARGS passes more options
# to tools/mutate.py (--only NAME, --suite CMD, --json F).
mutate: all
	@python3 tools/mutate.py --build $(BUILD) --seeds $(or $(MUTATE_SEEDS),7) $(MUTATE_ARGS)

# --- fuzzing ---------------------------------------------------------------
# libFuzzer targets tests/fuzz/fuzz_NAME.c, built with clang under ASan+UBSan
# in a build directory of their own ($(BUILD)/fuzz); the normal build is not
# touched. `make fuzz` runs each for FUZZ_S seconds (FUZZ_ONLY=NAME for one,
# FUZZ_JOBS=2 two at a time).
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BUILD ?= $(BUILD)/fuzz
FUZZ_CC    ?= clang
FUZZ_S     ?= 60
ifeq ($(FUZZING),1)
ALL_CFLAGS  += -fsanitize=fuzzer-no-link
ALL_LDFLAGS += -fsanitize=fuzzer-no-link
endif

fuzz-build:
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) SANITIZE=address,undefined \
		FUZZING=1 CFLAGS='-O1 -g' fuzz-bins

fuzz-bins: $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRCS))

# The targets link the components they fuzz and those components' arrows
# (proxy, contract, checkers -> report, core) and the runner's Lua/JSON
# bridge alone: the fuzz build compiles nothing else (no CLI, launcher,
# services or Lua bindings). A target for another component adds it here.
FUZZ_LIBS = $(LIB_proxy) $(LIB_contract) $(LIB_checkers) $(LIB_report) $(LIB_core)
FUZZ_OBJS = $(BUILD)/obj/runner/luajson.o
$(BUILD)/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJS) $(FUZZ_LIBS)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) \
		-Wl,--start-group $(FUZZ_LIBS) -Wl,--end-group $(PKG_LIBS)

fuzz: fuzz-build
	@FUZZ_BIN=$(FUZZ_BUILD) FUZZ_S=$(FUZZ_S) FUZZ_JOBS=$(or $(FUZZ_JOBS),1) sh tests/fuzz/run.sh

# The container image's root filesystem: the programs, sleep (the reference
# manifests' preStop) and their shared-library closure, for a FROM scratch
# Containerfile (deploy/container/, docs/staging.md).
image-rootfs: $(PROGRAMS)
	@sh deploy/container/rootfs.sh $(BUILD)/rootfs $(PROGRAMS) $$(command -v sleep)

# A Debian package (dpkg-deb): BUILD/faultline_VERSION_ARCH.deb, its Depends
# derived from the binaries' NEEDED libraries (tools/deb.sh)
deb: all
	sh tools/deb.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/faultline
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 README.md $(wildcard docs/*.md) $(DESTDIR)$(PREFIX)/share/doc/faultline/

clean:
	rm -rf build

help:
	@sed -n '2,14s/^# \{0,1\}//p' Makefile

.PHONY: deb FORCE format-check mutate layers all test test-matrix tests demo bench fuzz fuzz-build \
	fuzz-bins install clean help image-rootfs

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
