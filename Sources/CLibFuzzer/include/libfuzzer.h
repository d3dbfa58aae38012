#ifndef BOOTBANK_LIBFUZZER_H
#define BOOTBANK_LIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt's libclang_rt.fuzzer, linked by -sanitize=fuzzer): parses the
// libFuzzer flags in argv and calls `callback` with each input. Declared here so a Swift `main`
// can start it; only a build with -sanitize=fuzzer references it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
