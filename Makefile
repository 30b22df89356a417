# Makefile - thin wrapper over meson/ninja for the common entry points.
#
#   make            plain build in build/
#   make check      deps, plain (-Werror) and ASan+UBSan builds, every suite
#                   of both; last line "N passed, N failed, N skipped"
#   make demo       build and run the quickstart (scripts/demo.sh if present)
#   make fuzz       libFuzzer build in build-fuzz/, each target for
#                   FUZZ_SECONDS on a copy of its corpus
#   make bench      release build in build-bench/, then bench/run.sh
#   make format     clang-format -i every C file under src/ and tests/
#   make clean      remove the build directories this Makefile creates
#
# The real work lives in meson.build, scripts/deps.sh and tests/run-suites.sh;
# nothing here should grow beyond glue.

BUILD		?= build
ASAN		?= build-asan
FUZZ		?= build-fuzz
BENCH		?= build-bench
FUZZ_SECONDS	?= 60
MESON		?= meson
NINJA		?= ninja
CLANG_FORMAT	?= clang-format

ASAN_OPTS	= -Db_sanitize=address,undefined -Db_lundef=false
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1

# setup DIR ARGS...: configure DIR once; later runs only reconfigure it so
# options given here win over whatever was set before.
setup = if [ -f $(1)/build.ninja ]; then \
		$(MESON) setup --reconfigure $(1) $(2) >/dev/null; \
	else \
		$(MESON) setup $(1) $(2); \
	fi

.PHONY: all check demo fuzz bench format clean

all:
	@$(call setup,$(BUILD),)
	$(NINJA) -C $(BUILD)

# Both builds always run to the end so one report covers everything; a
# build error shows up as a failed "build" suite in run-suites.sh.
check:
	scripts/deps.sh check
	@$(call setup,$(BUILD),)
	@$(call setup,$(ASAN),$(ASAN_OPTS))
	-$(NINJA) -C $(BUILD) -k 0
	-$(NINJA) -C $(ASAN) -k 0
	@rc=0; rm -f $(BUILD)/suite-totals $(ASAN)/suite-totals; \
	tests/run-suites.sh $(BUILD) --totals $(BUILD)/suite-totals || rc=1; \
	tests/run-suites.sh $(ASAN) --totals $(ASAN)/suite-totals || rc=1; \
	cat $(BUILD)/suite-totals $(ASAN)/suite-totals 2>/dev/null | awk \
	    '{ p += $$1; f += $$2; s += $$3; n++ } \
	     END { if (n < 2) f++; \
		   printf "%d passed, %d failed, %d skipped\n", p, f, s; \
		   exit (f > 0 ? 1 : 0) }' || rc=1; \
	exit $$rc

demo:
	scripts/deps.sh demo
	@$(MAKE) --no-print-directory all
	@if [ -x scripts/demo.sh ]; then \
		exec scripts/demo.sh; \
	else \
		exec $(BUILD)/haven run -c examples/quickstart.yaml; \
	fi

# Every fuzz_* target runs on a fresh copy of its corpus so the checked-in
# seeds only change when someone copies a new finding back on purpose.
fuzz:
	scripts/deps.sh build
	@export CC=clang; $(call setup,$(FUZZ),-Dfuzz=true $(ASAN_OPTS) \
	    -Dc_args=-fsanitize=fuzzer-no-link)
	@targets=$$(/usr/bin/python3 -c 'import json, os, sys; \
	    d = sys.argv[1]; \
	    t = json.load(open(d + "/meson-info/intro-targets.json")); \
	    print(" ".join(os.path.relpath(x["filename"][0], d) for x in t \
		if x["name"].startswith("fuzz_")))' $(FUZZ)); \
	if [ -z "$$targets" ]; then echo "fuzz: no fuzz_* targets"; exit 0; fi; \
	$(NINJA) -C $(FUZZ) $$targets || exit 1; \
	rc=0; \
	for t in $$targets; do \
		f=$(FUZZ)/$$t; \
		name=$${f##*/fuzz_}; \
		work=$(FUZZ)/fuzz-work/$$name; \
		rm -rf "$$work"; mkdir -p "$$work/corpus" "$$work/crashes"; \
		cp -R tests/fuzz/corpus/$$name/. "$$work/corpus/" 2>/dev/null; \
		echo "fuzz $$name for $(FUZZ_SECONDS)s"; \
		"$$f" -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		    -artifact_prefix="$$work/crashes/" "$$work/corpus" \
		    >"$$work/log" 2>&1 \
		    || { rc=1; echo "fuzz $$name FAILED, see $$work/"; \
			 tail -n 40 "$$work/log"; }; \
	done; \
	exit $$rc

bench:
	scripts/deps.sh bench
	@$(call setup,$(BENCH),--buildtype=release)
	$(NINJA) -C $(BENCH)
	@if [ -x bench/run.sh ]; then \
		HAVEN_BIN=$(BENCH)/haven exec bench/run.sh; \
	else \
		echo "bench: no bench/run.sh yet"; exit 1; \
	fi

format:
	find src tests -name '*.[ch]' -print0 | xargs -0 -r $(CLANG_FORMAT) -i

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ) $(BENCH)
