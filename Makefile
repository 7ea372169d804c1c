# ddb2es - build, test and tooling.
#
#   make            build build/ddb2es
#   make test       install what is missing, build, run every test
#   make asan       the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make tsan       the pipeline tests under ThreadSanitizer
#   make demo       the console against a local demo (DynamoDB Local + test server)
#   make bench      throughput figures (prints, never fails on a number)
#   make fuzz       short libFuzzer runs of the parsers
#   make lint       bans strcpy/sprintf/strtok/atoi and friends in our C
#   V=1             show the commands
#
# One source list per part: core/ (the engine, a static library), cli/ (main
# and the headless commands), tui/ (the ncurses console). core/ knows no
# terminal; cli/ and tui/ see only include/.

BUILD   ?= build
CC      ?= cc
PYTHON  ?= /usr/bin/python3
VERSION := 0.1.0

WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
DATADIR ?= $(CURDIR)/assets
CPPFLAGS_BASE = -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DDDB2ES_VERSION=\"$(VERSION)\" -DDDB2ES_DATADIR=\"$(DATADIR)\" -MMD -MP
OPT     ?= -O2 -g
SAN     ?=
CFLAGS  += $(WARN) $(OPT) $(SAN)
LDFLAGS += $(SAN)
LIBS     = -lcurl -ljansson -lcrypto -lpthread -lm
TUI_LIBS = $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)

CORE_SRC := $(sort $(wildcard core/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TUI_SRC  := $(sort $(wildcard tui/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TUI_OBJ  := $(TUI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBCORE  := $(BUILD)/libddb2es.a
BIN      := $(BUILD)/ddb2es

ifeq ($(V),1)
Q :=
else
Q := @
endif

# keep the test objects between runs (they are intermediate files of a chain)
.SECONDARY:

.PHONY: all test unit check asan tsan demo bench fuzz lint clean deps install

all: $(BIN)

$(BUILD)/core/%.o: core/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_BASE) -Iinclude -Icore $(CFLAGS) -c -o $@ $<

$(BUILD)/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_BASE) -Iinclude $(CFLAGS) -c -o $@ $<

$(BUILD)/tui/%.o: tui/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_BASE) -Iinclude $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_BASE) -Iinclude -Icore $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(LIBCORE): $(CORE_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(TUI_OBJ) $(LIBCORE)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(TUI_OBJ) $(LIBCORE) $(LIBS) $(TUI_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBCORE)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBCORE) $(LIBS) -lcmocka

unit: $(UNIT_BIN)

# Installs what is missing (quiet when all is there), builds, runs every test.
test: deps
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)BUILD=$(BUILD) PYTHON=$(PYTHON) tests/run.sh

deps:
	$(Q)tests/setup.sh

asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all unit
	$(Q)BUILD=build/asan PYTHON=$(PYTHON) DDB2ES_SANITIZER=address ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh

tsan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/tsan OPT="-O1 -g" SAN="-fsanitize=thread" all unit
	$(Q)BUILD=build/tsan PYTHON=$(PYTHON) DDB2ES_SANITIZER=thread TSAN_OPTIONS=halt_on_error=1 tests/run.sh --only pipeline

lint:
	$(Q)! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)\s*\(' \
		core/*.c cli/*.c tui/*.c include/ddb2es/*.h 2>/dev/null || \
		{ echo "lint: banned function above (use snprintf, strtol, dbuf_*)"; exit 1; }
	$(Q)! grep -nE '#include *[<"](n?curses|ncursesw?/)' core/*.c include/ddb2es/*.h 2>/dev/null || \
		{ echo "lint: core/ must not include curses"; exit 1; }
	@echo "lint: ok"

demo: deps all
	$(Q)BUILD=$(BUILD) PYTHON=$(PYTHON) tests/demo.sh

# Short libFuzzer runs (clang) of the parsers that read operator files and service answers.
FUZZ_CC    ?= clang
FUZZ_FLAGS  = -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
              -DDDB2ES_VERSION=\"$(VERSION)\" -Iinclude -Icore
FUZZ_TIME  ?= 20
fuzz:
	$(Q)mkdir -p build/fuzz/corpus-entity
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_entity.c core/entity*.c core/ddbjson.c core/jscan.c core/util.c core/buf.c core/error.c \
		-ljansson -o build/fuzz/fuzz_entity
	$(Q)build/fuzz/fuzz_entity -dict=tests/fuzz/fuzz_entity.dict -max_total_time=$(FUZZ_TIME) \
		build/fuzz/corpus-entity tests/fuzz/corpus/entity 2>&1 | tail -n 3

bench: deps all
	$(Q)BUILD=$(BUILD) PYTHON=$(PYTHON) tests/bench.sh

clean:
	rm -rf build

-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TUI_OBJ:.o=.d) $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d)
