/*===- checksum.c - The weights file checksum ------------------------------===*
 *
 * Four independent lanes so that the multiplies pipeline, and checking the
 * weights at load costs little next to reading them (bench/NOTES.md). sinterc
 * computes it when it writes a weights file, the runtime when it maps one.
 *
 *===-----------------------------------------------------------------------===*/
#include "sinter/runtime.h"

#include <string.h>

static const uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
static const uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
static const uint64_t kPrime3 = 0x165667B19E3779F9ull;

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v); /* unaligned-safe; the format is little-endian */
  return v;
}

static uint64_t mix(uint64_t lane, uint64_t word) {
  return rotl(lane + word * kPrime2, 31) * kPrime1;
}

uint64_t sinter_checksum64(const void *data, size_t size) {
  const unsigned char *p = (const unsigned char *)data;
  const unsigned char *end = p + size;
  uint64_t lanes[4] = {kPrime1 + kPrime2, kPrime2, 0, -kPrime1};
  while (end - p >= 32) {
    for (int i = 0; i < 4; ++i)
      lanes[i] = mix(lanes[i], load64(p + 8 * i));
    p += 32;
  }
  uint64_t h = rotl(lanes[0], 1) + rotl(lanes[1], 7) + rotl(lanes[2], 12) +
               rotl(lanes[3], 18);
  h ^= (uint64_t)size * kPrime3;
  while (end - p >= 8) {
    h = rotl(h ^ mix(0, load64(p)), 27) * kPrime1 + kPrime3;
    p += 8;
  }
  while (p < end)
    h = rotl(h ^ (*p++ * kPrime3), 11) * kPrime1;
  /* Final avalanche so that one flipped bit changes about half the output. */
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}
