#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <cpuid.h>

/// 1 when the CPU and OS support AVX (so `vzeroupper` is a valid instruction), else 0.
static inline int bootbank_has_avx(void) {
  static int cached = -1;
  if (cached < 0) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    int avx = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE) && (c & bit_AVX)) {
      unsigned lo = 0, hi = 0;
      __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
      avx = (lo & 0x6) == 0x6;
    }
    cached = avx;
  }
  return cached;
}
#endif

/// crc32_gzip_refl, then `vzeroupper`.
///
/// ISA-L's AVX-512 CRC kernel returns with the upper halves of the vector registers dirty;
/// legacy-SSE code run next on the same thread (the SHA-NI SHA-256 of OpenSSL and BoringSSL)
/// then pays a state-transition penalty: measured here, SHA-256 fell from 1.8 to 1.3 GB/s.
static inline uint32_t bootbank_crc32_gzip_refl(uint32_t crc, const unsigned char *buffer, uint64_t length) {
  uint32_t result = crc32_gzip_refl(crc, buffer, length);
#if defined(__x86_64__)
  if (bootbank_has_avx()) {
    __asm__ volatile("vzeroupper" ::: "memory");
  }
#endif
  return result;
}
