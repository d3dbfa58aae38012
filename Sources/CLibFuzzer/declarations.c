// The target only declares libFuzzer's driver (include/libfuzzer.h); it defines nothing.
#include "libfuzzer.h"
